"""The case diary in the browser (issue 13): the owner opens the diary form on her case page, writes a home visit
with its participants and a health note, and reads both in the case's timeline; the sub-ambito coordinator reads
both too (a minor's case: besides her, only the owner reads it)."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import log_in, screenshot


def test_a_worker_writes_diary_entries_and_reads_them_in_the_timeline(new_page, live_server):
    case_id = live_server["world"]["minore"]  # as.rossi's patto in Crema: nothing else in the browser tests writes
    page = log_in(new_page(), "as.rossi")
    page.goto(f"/casi/{case_id}")
    for kind, when, text, data_class in (
            ("Visita domiciliare", "18/11/2026 10:30", "Casa in ordine; la madre chiede aiuto per la mensa.", "sociale"),
            ("Telefonata", "19/11/2026 16:00", "Il pediatra segnala un ricovero breve.", "sanitaria")):
        page.get_by_text("Scrivere nel diario").click()
        form = page.get_by_test_id("modulo-diario")
        form.get_by_label("Tipo di voce").select_option(label=kind)
        form.get_by_label("Data e ora del contatto").fill(when)
        form.get_by_label("Partecipanti").fill("Laura Galli")
        form.get_by_label("Testo").fill(text)
        form.get_by_label("Classe del dato").select_option(data_class)
        with page.expect_navigation():
            form.get_by_role("button", name="Registra nel diario").click()
        expect(page.get_by_test_id("voce-scritta")).to_be_visible()
    entries = page.get_by_test_id("voce-diario")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("Diario n. 1: Visita domiciliare")
    expect(entries.nth(0)).to_contain_text("Partecipanti: Laura Galli")
    expect(entries.nth(1)).to_contain_text("Il pediatra segnala un ricovero breve.")
    screenshot(page, "caso-diario")

    colleague = log_in(new_page(), "coord.crema")  # the coordinator sees every class
    colleague.goto(f"/casi/{case_id}")
    expect(colleague.get_by_test_id("voce-diario")).to_have_count(2)
