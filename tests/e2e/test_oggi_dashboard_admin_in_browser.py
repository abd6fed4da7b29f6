"""Oggi, the dashboard, the outbox page and the profile's calendar link in a real browser: axe-core finds no
serious or critical accessibility violation, and the pages show what they must.

The live server's world is shared by every browser test of the session: nothing here changes it (no sweep:
the outbox already holds the notifications of the world's steps).
"""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import log_in, screenshot

PAGES = [
    ("coord.crema", "/oggi", "oggi-coordinatore"),
    ("as.rossi", "/oggi", "oggi-assistente-sociale"),
    ("udp.neri", "/oggi", "oggi-ufficio-di-piano"),
    ("udp.neri", "/cruscotto", "cruscotto-ufficio-di-piano"),
    ("coord.crema", "/cruscotto", "cruscotto-coordinatore"),
    ("udp.admin", "/admin/posta", "posta-in-uscita"),
    ("as.rossi", "/profilo", "profilo-calendario"),
]


@pytest.mark.parametrize(("username", "path", "name"), PAGES)
def test_page_has_no_serious_accessibility_violation(live_server, new_page, username, path, name):
    page = log_in(new_page(), username)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert page.locator("h1").count() == 1
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]


def test_the_dashboard_chart_is_an_image_with_a_label_and_a_table_next_to_it(live_server, new_page):
    page = log_in(new_page(), "ovd.valutatore")
    page.goto("/cruscotto")
    chart = page.get_by_role("img", name="Grafico: Patti attivati nel progetto", exact=False)
    assert chart.count() == 1
    article = page.get_by_test_id("indicatore-patti_attivati_progetto")
    assert article.get_by_role("table").count() >= 1
