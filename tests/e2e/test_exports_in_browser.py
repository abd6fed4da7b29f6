"""Exports in the browser (issue 14 item 2): the worker filters /casi and downloads the list as it is on screen (CSV
for Italian Excel, XLSX) and a case's PDF summary; the Ufficio di Piano downloads the yearly report from its page."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .conftest import log_in


def test_a_worker_downloads_the_filtered_list_and_a_case_summary(new_page, live_server):
    world = live_server["world"]
    page = log_in(new_page(), "as.rossi")
    page.goto("/casi?tipo=sad_caso")
    shown = sorted(int(x) for x in page.locator("tr[data-caso]").evaluate_all("rs => rs.map(r => r.dataset.caso)"))
    with page.expect_download() as got:
        page.get_by_role("link", name="Scarica l'elenco in CSV").click()
    download = got.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
    assert sorted(int(r[0]) for r in rows) == shown == sorted([world["sad_ente01"], world["sad_ente02"]])
    with page.expect_download() as got:
        page.get_by_role("link", name="Scarica l'elenco in Excel (XLSX)").click()
    assert Path(got.value.path()).read_bytes().startswith(b"PK")
    page.goto(f"/casi/{world['patto_crema']}")
    with page.expect_download() as got:
        page.get_by_test_id("riepilogo-pdf").click()
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")


def test_the_planning_office_downloads_the_yearly_report_from_its_page(new_page, live_server):
    page = log_in(new_page(), "udp.admin")
    page.get_by_role("link", name="Relazione annuale").first.click()
    page.wait_for_url("**/relazione")
    with page.expect_download() as got:
        page.get_by_role("link", name="CSV 2026").click()
    assert Path(got.value.path()).read_bytes().startswith("\ufeffcodice;etichetta".encode())
