"""Documents in the browser (issue 13 item 5): a worker writes a diary entry on a patto being drafted, sees that its
activation needs the signed patto, uploads it (PAdES-signed: its signer is shown) and activates it; the case page
with its documents fits a phone's screen and has no accessibility violation."""
from __future__ import annotations

from datetime import date

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from services.cases import CaseService
from tests.integration.conftest import NOW
from tests.integration.patto_steps import ASSEGNA, VALUTAZIONE, open_patto
from tests.signing_fixtures import SIGNER_NAME, signed_patto_pdf

from .conftest import log_in, screenshot
from .test_case_journeys import fill, state_of, submit, transition_form


def drafting_pact(engine) -> int:
    service = CaseService(engine, clock=lambda: NOW)
    case = open_patto(service, service.actor("as.rossi"), surname="Ferri", name="Nadia", birth=date(1979, 3, 8))
    service.advance(case_id=case, transition="assegna", actor=service.actor("coord.crema"),
                    data={**ASSEGNA, "assegnatario": "as.rossi"}, effective_at=date(2026, 1, 14))
    service.advance(case_id=case, transition="avvia_redazione", actor=service.actor("as.rossi"), data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    return case


def test_a_worker_writes_in_the_diary_uploads_the_signed_patto_and_activates_it(
        new_page, live_server, documents_required):
    signed = signed_patto_pdf()
    case_id = drafting_pact(live_server["engine"])
    page = log_in(new_page(), "as.rossi")
    page.goto(f"/casi/{case_id}")

    page.get_by_text("Scrivere nel diario").click()
    diary = page.get_by_test_id("modulo-diario")
    diary.get_by_label("Tipo di voce").select_option(label="Colloquio")
    diary.get_by_label("Data e ora del contatto").fill("19/11/2026 09:30")
    diary.get_by_label("Testo").fill("Letto il patto con la signora: lo firma digitalmente.")
    with page.expect_navigation():
        diary.get_by_role("button", name="Registra nel diario").click()
    expect(page.get_by_test_id("voce-scritta")).to_be_visible()

    form = transition_form(page, "attiva")
    expect(form.get_by_test_id("documenti-richiesti-attiva")).to_contain_text("Patto firmato: manca")

    page.get_by_text("Caricare un documento").click()
    upload = page.get_by_test_id("modulo-documento")
    upload.get_by_label("File").set_input_files(
        files=[{"name": "patto firmato.pdf", "mimeType": "application/pdf", "buffer": signed}])
    upload.get_by_label("Tipo di documento").select_option(label="Patto firmato")
    upload.get_by_label("Numero di protocollo").fill("2026/0004512")
    upload.get_by_label("Data di protocollo").fill("19/11/2026")
    with page.expect_navigation():
        upload.get_by_role("button", name="Carica il documento").click()
    expect(page.get_by_test_id("documento-caricato")).to_be_visible()
    row = page.get_by_test_id("documento")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("patto firmato.pdf")
    expect(row).to_contain_text("n. 2026/0004512 del 19/11/2026")
    expect(row.get_by_test_id("firma")).to_contain_text("firma integra")
    expect(row.get_by_test_id("firma")).to_contain_text(SIGNER_NAME)
    screenshot(page, "caso-documenti")

    form = transition_form(page, "attiva")
    expect(form.get_by_test_id("documenti-richiesti-attiva")).to_contain_text("Patto firmato: caricato")
    fill(form, {"obiettivi.0.descrizione": "rientro dal debito", "obiettivi.0.indicatore": "bollette pagate",
                "obiettivi.0.target": "6", "impegni_reciprocita.0.attivita": "doposcuola",
                "impegni_reciprocita.0.ente_ospitante": "Parrocchia", "impegni_reciprocita.0.ore_settimanali": "4",
                "misura_economica.tipo": "mensile", "misura_economica.importo": "400",
                "misura_economica.mensilita": "6", "misura_economica.voci": True,
                "canale": "progetto", "data_inizio": "01/12/2026", "data_fine": "31/05/2027",
                "firmato_il": "19/11/2026", "firmatari": "Nadia Ferri", "firma_assistente_sociale": True,
                "informativa_privacy": True, "efficace_il": "19/11/2026"})
    submit(page, form)
    assert state_of(page) == "Attivo"


def test_the_case_page_with_its_documents_fits_a_phone_and_passes_axe(new_page, live_server):
    case_id = live_server["world"]["patto_crema"]
    page = log_in(new_page(), "as.rossi")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/casi/{case_id}#documenti")
    page.get_by_text("Caricare un documento").click()
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= screen
    violations = [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]]
    assert violations == []
