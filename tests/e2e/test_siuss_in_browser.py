"""The Ufficio di Piano's SIUSS page in the browser (issue 14 item 3): after a flow is exported and INPS's outcome
recorded, the page lists it with its counts on a phone's 360 px without widening the page and without an
accessibility violation, and its XML downloads."""
from __future__ import annotations

from datetime import datetime, timezone

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from services.access import principal_for
from services.siuss import export, flows_view, record_outcomes

from .conftest import log_in, screenshot


def test_the_planning_office_reads_its_flows_on_a_phone_and_downloads_one(browser, live_server):
    engine = live_server["engine"]
    office = principal_for(engine, "udp.admin")
    if not flows_view(engine, office):  # the session's world: export once
        flow = export(engine, office, "2026-11", now=datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
                      operator_cf="RSSMRA80A01H501U")
        record_outcomes(engine, office, {"elenco_esiti": [{"id_flusso": flow.name, "codice_esito": "OK",
                                                           "codice_siuss": "22738"}]})
    name = flows_view(engine, office)[0]["nome"]
    context = browser.new_context(base_url=live_server["url"], locale="it-IT", timezone_id="Europe/Rome",
                                  viewport={"width": 360, "height": 740}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = log_in(context.new_page(), "udp.admin")
    page.goto("/siuss")
    row = page.locator(f"tr[data-flusso='{name}']")
    expect(row).to_be_visible()
    page.wait_for_load_state("load")
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= screen  # the table scrolls inside its own region
    screenshot(page, "telefono-siuss")
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations] == []
    with page.expect_download() as download:
        row.get_by_role("link", name=f"Scarica il flusso {name}").click()
    assert download.value.suggested_filename == f"{name}.xml"
    context.close()
