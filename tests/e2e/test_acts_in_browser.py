"""Generated acts in the browser (issue 13 item 4): Pandino's worker generates the patto to sign from her case page,
sees it listed with its SHA-256 and downloads it as a PDF/A; the page keeps fitting a phone and passing axe."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.pdfa_check import pdf_text, pdfa_problems

from .conftest import log_in, screenshot


def test_a_worker_generates_the_patto_on_her_case_page_and_downloads_the_pdfa(new_page, live_server):
    case_id = live_server["world"]["patto_pandino"]  # as.verdi's patto: no other browser test writes on it
    page = log_in(new_page(), "as.verdi")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/casi/{case_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Genera atto: Patto gener-attivo da sottoscrivere").click()
    expect(page.get_by_test_id("atto-generato")).to_be_visible()
    listed = page.get_by_test_id("atti-generati")
    expect(listed).to_contain_text(f"patto-da-firmare-caso-{case_id}-")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert Axe().run(page).violations_count == 0
    with page.expect_download() as download:
        listed.get_by_role("link").first.click()
    pdf = download.value.path().read_bytes()
    assert pdfa_problems(pdf) == []
    assert "Patto gener-attivo da sottoscrivere" in pdf_text(pdf)
    screenshot(page, "caso-atti")
