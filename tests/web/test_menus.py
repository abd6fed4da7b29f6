"""The main menu and the landing page come from the pages' own access decisions (web/nav.py): for every user
of the district world, every menu entry opens (200) and every menu page missing from the menu is refused
(403, with the page's Italian reason); each user lands on the first page of their own menu."""
from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient

from services.access import principal_for
from web.nav import nav_for, pages

from .conftest import ALL_USERS, CSRF_RE, PASSWORD

NAV_LINK = re.compile(r'<a class="nav-link[^"]*" href="([^"]+)"')


def _log_in(app, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://testserver")
    token = CSRF_RE.search(client.get("/accesso").text).group(1)
    response = client.post("/accesso", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client, response.headers["location"]


def _menu(html: str) -> list[str]:
    return NAV_LINK.findall(html)


def test_every_menu_entry_opens_and_every_other_menu_page_is_refused_with_its_reason(app, web_engine):
    for username, *_ in ALL_USERS:
        _check_menu_of(app, web_engine, username)


def _check_menu_of(app, web_engine, username: str) -> None:
    client, landing = _log_in(app, username)
    principal = principal_for(web_engine, username)
    expected = [p.href for p in nav_for(principal)]
    first = client.get(landing)
    assert first.status_code == 200
    assert _menu(first.text) == expected, "the menu on the page is the one derived from the access decisions"
    assert landing == expected[0], "the user lands on the first page of their own menu"
    for page in pages():
        response = client.get(page.href)
        if page.href in expected:
            assert response.status_code == 200, (username, page.href)
            assert _menu(response.text) == expected
        else:
            assert response.status_code == 403, (username, page.href)
            assert page.refusal(principal) in unescape(response.text)
    client.close()


def test_each_role_lands_on_its_own_useful_page_with_the_entries_its_work_needs(app, web_engine):
    menus = {u[0]: [p.label for p in nav_for(principal_for(web_engine, u[0]))] for u in ALL_USERS}
    assert menus["as.rossi"] == ["Oggi", "Casi", "Nuova segnalazione", "Bandi FNA", "Profilo"]
    assert menus["coord.crema"] == ["Oggi", "Casi", "Bandi FNA", "Consegne e sostituti", "Cruscotto", "Importazione",
                                    "Profilo"]  # no dead-end referral form
    assert menus["csc.bianchi"] == ["Oggi", "Casi", "Nuova segnalazione", "Bandi FNA", "Cruscotto", "Profilo"]
    assert menus["ente.girasole"] == ["Oggi", "Casi", "Portale ente", "Profilo"]
    assert menus["ovd.valutatore"] == ["Cruscotto", "Relazione annuale", "Profilo"]  # aggregates only: no empty Oggi
    assert menus["asst.medici"] == ["Oggi", "Casi", "Bandi FNA", "Profilo"]
    assert menus["udp.admin"][-4:] == ["Importazione", "Posta in uscita", "Ambiti", "Profilo"]  # the instance's admin
    assert menus["reg.lettore"] == ["Regione", "Profilo"]  # of no Ambito: every Ambito's aggregates, no case
    _, landing = _log_in(app, "ovd.valutatore")
    assert landing == "/cruscotto"
    home = TestClient(app, base_url="http://testserver")
    token = CSRF_RE.search(home.get("/accesso").text).group(1)
    home.post("/accesso", data={"username": "ovd.valutatore", "password": PASSWORD, "csrf_token": token})
    assert home.get("/", follow_redirects=False).headers["location"] == "/cruscotto"
    refused = home.get("/oggi")
    assert refused.status_code == 403 and "consulta solo dati aggregati" in unescape(refused.text)
