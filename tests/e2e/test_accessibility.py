"""Every page of every role in a real browser, on a phone (360×740) and on a laptop (1366×900):

- the page is never wider than the screen (`document.documentElement.scrollWidth <= innerWidth`): wide tables
  scroll inside their own focusable region;
- axe-core finds no violation of any impact;
- the menu is the one derived from the access decisions (web/nav.py), every menu page is reached by clicking its
  entry, and on the phone the entries are hidden until the header's toggle opens the off-canvas menu (its close
  button hides them again).

One browser for the module (conftest), one context per user and size over the session's shared world; each page's
screenshot is kept as a CI artefact.
"""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from services.access import principal_for
from web.nav import nav_for

from .conftest import ARTIFACTS, log_in

AXE = Axe()
SIZES = {"telefono": {"width": 360, "height": 740}, "desktop": {"width": 1366, "height": 900}}

# One user per role (the administrator is also the planning office: their pages and the outbox), and the pages
# each reaches from the menu pages (ids of the shared world), besides the menu pages themselves.
USERS = ["as.rossi", "coord.crema", "csc.bianchi", "udp.admin", "ente.girasole", "ovd.valutatore", "asst.medici"]
DETAILS = {
    "as.rossi": ["/casi/{patto_crema}", "/casi/{sad_ente01}", "/casi/{sad_ente01}/storia", "/fna/bandi/{bando}",
                 "/casi/{patto_crema}/persona"],
    "coord.crema": ["/casi/{patto_crema}", "/fna/bandi/{bando}/graduatoria", "/casi/{patto_crema}/persona",
                    "/casi/{patto_crema}/passaggio"],
    "csc.bianchi": ["/casi/{fna}", "/fna/bandi/{bando}"],
    "udp.admin": ["/casi/{fna}", "/fna/bandi/{bando}", "/fna/bandi/{bando}/graduatoria",
                 "/fna/bandi/{bando}/graduatoria/pubblica", "/admin/posta?limit=1"],
    "ente.girasole": ["/casi/{sad_ente01}", "/ente/casi/{sad_ente01}"],
    "asst.medici": ["/casi/{fna}"],
}


def _context(browser, live_server, size: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server["url"], locale="it-IT", timezone_id="Europe/Rome",
                                  viewport=SIZES[size])
    context.set_default_timeout(20_000)
    return context


def _problems(page: Page, name: str) -> list[str]:
    """What is wrong with the page now on screen (empty: nothing); its screenshot is kept."""
    page.wait_for_load_state("load")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # what the screen shows first (a full page costs time)
    found = [] if page.locator("h1").count() == 1 else [f"{name}: la pagina non ha un solo titolo h1"]
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide > screen:
        found.append(f"{name}: la pagina è larga {wide} px su uno schermo di {screen} px")
    for v in AXE.run(page).response["violations"]:
        found.append(f"{name}: {v['id']} ({v['impact']}) {v['help']} — {[n['target'] for n in v['nodes']][:3]}")
    return found


def _open_phone_menu(page: Page) -> None:
    """Tap the header's menu button and wait for the off-canvas menu to finish sliding in."""
    page.evaluate("""() => { delete document.body.dataset.menuAperto; document.getElementById('nav-principale')
        .addEventListener('shown.bs.navbarcollapsible', () => { document.body.dataset.menuAperto = '1' },
                          {once: true}) }""")
    page.get_by_test_id("apri-menu").click()
    page.locator("body[data-menu-aperto='1']").wait_for(state="attached")  # no eval: the CSP forbids it


def _follow_menu_entry(page: Page, href: str, phone: bool) -> None:
    entry = page.locator(f'#nav-principale a.nav-link[href="{href}"]')
    if phone:
        assert not entry.is_visible(), f"{href}: on a phone the entries wait for the menu button"
        _open_phone_menu(page)
    entry.wait_for(state="visible")
    entry.click()
    page.wait_for_url(f"**{href}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username", USERS)
def test_every_page_of_the_user_fits_the_screen_and_has_no_accessibility_violation(
        browser, live_server, username, size):
    phone = size == "telefono"
    context = _context(browser, live_server, size)
    page = log_in(context.new_page(), username)
    expected = [p.href for p in nav_for(principal_for(live_server["engine"], username))]
    assert page.url.endswith(expected[0]), "the user lands on the first page of their menu"
    menu = page.locator("#nav-principale a.nav-link")
    assert [menu.nth(i).get_attribute("href") for i in range(menu.count())] == expected
    if phone:
        _open_phone_menu(page)
        assert menu.first.is_visible()
        assert page.get_by_test_id("apri-menu").get_attribute("aria-expanded") == "true"
        page.get_by_test_id("chiudi-menu").click()
        menu.first.wait_for(state="hidden")
    problems: list[str] = []
    for href in expected:
        _follow_menu_entry(page, href, phone)
        problems += _problems(page, f"{size}-{username}{href.replace('/', '-')}")
    for path in DETAILS.get(username, []):
        response = page.goto(path.format(**live_server["world"]))
        assert response is not None and response.status == 200, f"{username} {path}: {response and response.status}"
        slug = path.replace("{", "").replace("}", "").replace("/", "-")  # /casi/{fna} → -casi-fna
        problems += _problems(page, f"{size}-{username}{slug}")
    context.close()
    assert problems == []


@pytest.mark.parametrize("size", SIZES)
def test_the_login_page_and_the_api_docs_fit_the_screen_and_load_under_the_csp(browser, live_server, size):
    context = _context(browser, live_server, size)
    page = context.new_page()
    page.goto("/accesso")
    problems = _problems(page, f"{size}-accesso")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/api/docs")
    page.locator(".opblock").first.wait_for(state="visible")  # Swagger UI drew the operations
    assert page.locator(".opblock").count() >= 5
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(ARTIFACTS / f"{size}-api-docs.png"))
    context.close()
    assert errors == [], "no script refused by the CSP, no failed request"
    assert wide <= screen
    assert problems == []
