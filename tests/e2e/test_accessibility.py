"""axe-core on the main pages, each seen by the user it is for: no serious or critical violation.
Each page's screenshot is kept as a CI artefact."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import log_in, screenshot

AXE = Axe()

# (screenshot name, user, path template over the world's case ids)
PAGES = [
    ("oggi-assistente-sociale", "as.rossi", "/oggi"),
    ("oggi-coordinatore", "coord.crema", "/oggi"),
    ("casi-elenco", "coord.crema", "/casi"),
    ("caso-patto", "as.rossi", "/casi/{patto_crema}"),
    ("caso-sad-ente", "ente.girasole", "/casi/{sad_ente01}"),
    ("nuova-segnalazione", "as.rossi", "/casi/nuovo"),
    ("fna-bandi", "udp.neri", "/fna/bandi"),
    ("fna-bando", "udp.neri", "/fna/bandi/{bando}"),
    ("fna-graduatoria", "udp.neri", "/fna/bandi/{bando}/graduatoria"),
    ("fna-graduatoria-pubblica", "udp.neri", "/fna/bandi/{bando}/graduatoria/pubblica"),
    ("portale-ente", "ente.girasole", "/ente"),
    ("cruscotto", "udp.neri", "/cruscotto"),
    ("posta-in-uscita", "udp.admin", "/admin/posta"),
    ("posta-in-uscita-a-pagine", "udp.admin", "/admin/posta?limit=1"),
    ("profilo", "as.rossi", "/profilo"),
]


def serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def test_the_login_page_has_no_serious_accessibility_violation(new_page):
    page = new_page()
    page.goto("/accesso")
    assert serious(AXE.run(page)) == []


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_main_page_has_no_serious_accessibility_violation(new_page, live_server, name, user, path):
    page = log_in(new_page(), user)
    response = page.goto(path.format(**live_server["world"]))
    assert response is not None and response.status == 200, f"{path}: {response.status if response else None}"
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert serious(AXE.run(page)) == []
