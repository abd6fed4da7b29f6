"""Bonus Famiglia in the browser, following only what the screen shows (menus, links, buttons, labels): CSC opens
a pregnancy from «Nuova segnalazione» for the comune's social worker; she finds it on Oggi, records the interview
and the sheet and the application; CSC records the Region's admission and the first instalment; she records the
birth and the tessera sanitaria; CSC pays the second instalment; she records a monitoring sheet and closes the
case. Each step shows its state; a wrong amount is refused in Italian and changes nothing. The case page is
photographed at 1366 px and at 360 px."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from domain.validation import make_codice_fiscale
from store.tables import transition_t

from .conftest import log_in, screenshot

SURNAME, NAME = "Marchetti", "Giulia"
CF = make_codice_fiscale(SURNAME, NAME, date(1992, 5, 21), "F", "D142")


def labelled(scope: Locator, label: str) -> Locator:
    """The field whose label reads `label` (a required field's label ends in « *»)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def fill(form: Locator, values: dict[str, str]) -> None:
    """Fill a form's fields by the labels the user reads (selects by the option's visible text)."""
    for label, value in values.items():
        field = labelled(form, label)
        if field.evaluate("e => e.tagName.toLowerCase()") == "select":
            field.select_option(label=value)
        else:
            field.fill(value)


def tick(form: Locator, *choices: str) -> None:
    """Tick the boxes of a multiple choice by their labels (Bootstrap Italia draws the box on the label)."""
    for choice in choices:
        form.locator("label", has_text=choice).click()
        assert form.get_by_label(choice, exact=True).is_checked(), choice


def press(page: Page, form: Locator, button: str, *, succeeds: bool = True) -> None:
    """Press the form's button; a recorded step navigates, a refused one shows its errors in place."""
    if succeeds:
        with page.expect_navigation():
            form.get_by_role("button", name=button).click()
    else:
        with page.expect_response(lambda r: r.request.method == "POST"):
            form.get_by_role("button", name=button).click()
        page.get_by_test_id("errori").wait_for()
    page.wait_for_load_state("networkidle")


def action(page: Page, label: str) -> Locator:
    """Open the action the user reads in «Azioni disponibili» and return its form."""
    section = page.locator("section", has=page.get_by_role("heading", name="Azioni disponibili"))
    details = section.locator("details", has=page.locator("summary", has_text=label)).first
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


def state_of(page: Page) -> str:
    return page.get_by_test_id("stato").inner_text().strip()


def history(engine, case_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(transition_t.c.transition).where(transition_t.c.case_id == case_id)
                                 .order_by(transition_t.c.seq)).scalars())


def open_new_referral(page: Page) -> Locator:
    page.get_by_role("link", name="Nuova segnalazione").first.click()
    page.wait_for_load_state("networkidle")
    labelled(page.locator("body"), "Tipo di caso").select_option(label="Bonus Famiglia")
    page.get_by_label("Gravidanza o adozione").wait_for()
    page.wait_for_load_state("networkidle")
    return page.get_by_test_id("nuova-segnalazione")


REQUEST = {"Comune di residenza": "Crema (Crema)", "Codice fiscale": CF, "Cognome": SURNAME, "Nome": NAME,
           "Data di nascita": "21/05/1992", "Gravidanza o adozione": "Gravidanza",
           "Figli attesi o adottati (gemelli: più di uno)": "1", "Data presunta del parto": "20/07/2026",
           "Data della richiesta di colloquio": "02/03/2026",
           "Inviante (consultorio, Centro di Aiuto alla Vita...)": "Consultorio di Crema", "Data in cui è avvenuto": "02/03/2026"}
ASSIGNEE = "Assistente sociale del comune che svolge il colloquio"


def test_choosing_the_comune_offers_its_social_workers_for_the_interview(new_page, live_server):
    page = log_in(new_page(), "csc.bianchi")
    form = open_new_referral(page)
    fill(form, {"Cognome": SURNAME})
    fill(form, {"Comune di residenza": "Crema (Crema)"})
    assignee = labelled(form, ASSIGNEE)
    expect(assignee.locator("option", has_text="As Rossi")).to_have_count(1)
    assert "As Rossi" in assignee.locator("option").all_inner_texts()  # by name, not username
    assert labelled(form, "Cognome").input_value() == SURNAME  # nothing typed was lost



def test_an_admitted_pregnancy_offers_csc_only_the_first_instalment(new_page, live_server):
    from services.cases import CaseService
    from tests.integration.conftest import NOW
    from tests.web.test_bonus_famiglia_api import APPLICATION, SHEET, request

    service = CaseService(live_server["engine"], clock=lambda: NOW)
    csc, worker = service.actor("csc.bianchi"), service.actor("as.rossi")
    case_id = service.open_case(case_type="bonus_famiglia", actor=csc, comune_istat="019035",
                                effective_at=date(2026, 3, 2), data=request("Fontana"))
    for name, who, day, data in (("rilascia_scheda", worker, date(2026, 3, 9), SHEET),
                                 ("presenta_domanda", worker, date(2026, 3, 16), APPLICATION),
                                 ("ammetti", csc, date(2026, 4, 20),
                                  {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1500"})):
        service.advance(case_id=case_id, transition=name, actor=who, effective_at=day, data=data)
    page = log_in(new_page(), "csc.bianchi")
    page.goto(f"/casi/{case_id}")
    assert state_of(page) == "Ammessa"
    offered = page.locator("section", has=page.get_by_role("heading", name="Azioni disponibili")) \
        .locator("summary").all_inner_texts()
    assert offered == ["Prima rata erogata"]


def test_a_pregnancy_from_the_referral_to_closure(new_page, live_server):
    engine = live_server["engine"]
    csc = log_in(new_page(), "csc.bianchi")
    form = open_new_referral(csc)
    fill(form, REQUEST)
    assignee = labelled(form, ASSIGNEE)
    expect(assignee.locator("option", has_text="As Rossi")).to_have_count(1)  # filled once the comune is chosen
    assignee.select_option(label="As Rossi")
    screenshot(csc, "bonus-nuova-segnalazione-compilata")
    press(csc, form, "Registra la segnalazione")
    assert "Bonus Famiglia" in csc.locator("h1").inner_text()
    case_id = int(csc.url.rstrip("/").split("/")[-1].split("?")[0])
    assert state_of(csc) == "Colloquio richiesto"
    assert csc.get_by_test_id("assegnatario").inner_text().strip() == "As Rossi"

    worker = log_in(new_page(), "as.rossi")
    worker.get_by_role("link", name="Oggi").first.click()
    worker.wait_for_load_state("networkidle")
    worker.get_by_role("link", name=f"Bonus Famiglia n. {case_id}").first.click()  # the sheet is overdue
    worker.wait_for_load_state("networkidle")
    assert state_of(worker) == "Colloquio richiesto"
    assert SURNAME in worker.get_by_test_id("persona").inner_text()

    form = action(worker, "Colloquio: scheda rilasciata")
    fill(form, {"Data del colloquio": "09/03/2026", "Note del colloquio": "nucleo monoreddito in affitto",
                "Data di rilascio della scheda": "09/03/2026", "Data in cui è avvenuto": "09/03/2026"})
    tick(form, "Economica", "Abitativa")
    press(worker, form, "Colloquio: scheda rilasciata")
    assert state_of(worker) == "Scheda rilasciata"

    form = action(worker, "Domanda presentata sulla piattaforma regionale")
    fill(form, {"Protocollo/ID della domanda sulla piattaforma regionale": "BF-2026-000901",
                "Data di presentazione della domanda": "16/03/2026", "Tipo ISEE": "Ordinario",
                "Valore ISEE (€)": "14500", "Protocollo DSU": "INPS-ISEE-2026-ABCDE1234-00",
                "Data di presentazione DSU": "10/01/2026",
                "Anni di residenza continuativa in Lombardia (richiedente)": "10",
                "Anni di residenza continuativa in Lombardia (altro genitore; vuoto se assente)": "7",
                "Data in cui è avvenuto": "16/03/2026"})
    press(worker, form, "Domanda presentata sulla piattaforma regionale")
    assert state_of(worker) == "Domanda presentata"

    csc.goto(f"/casi/{case_id}")
    form = action(csc, "Esito regionale: ammessa")
    fill(form, {"Data della comunicazione regionale di ammissione": "20/04/2026", "Importo concesso (€)": "1500",
                "Data in cui è avvenuto": "20/04/2026"})
    press(csc, form, "Esito regionale: ammessa")
    assert state_of(csc) == "Ammessa"

    before = history(engine, case_id)
    form = action(csc, "Prima rata erogata")
    fill(form, {"Data del pagamento": "05/05/2026", "Importo pagato (€)": "1500", "Data in cui è avvenuto": "05/05/2026"})
    press(csc, form, "Prima rata erogata", succeeds=False)  # the whole grant, not its half
    errors = csc.get_by_test_id("errori").inner_text()
    assert "importo della prima rata € 1.500,00 diverso da quello dovuto (€ 750,00)" in errors
    assert state_of(csc) == "Ammessa" and history(engine, case_id) == before
    form = action(csc, "Prima rata erogata")
    fill(form, {"Importo pagato (€)": "0"})
    press(csc, form, "Prima rata erogata", succeeds=False)
    under_the_field = form.locator("#importo-errore")
    expect(under_the_field).to_have_text("deve essere maggiore di 0")
    screenshot(csc, "bonus-importo-rifiutato")
    assert history(engine, case_id) == before
    fill(form, {"Importo pagato (€)": "750"})
    press(csc, form, "Prima rata erogata")
    assert state_of(csc) == "Prima rata erogata"

    worker.goto(f"/casi/{case_id}")
    form = action(worker, "Nascita")
    fill(form, {"Data di nascita": "18/07/2026", "Figli nati": "1", "Data in cui è avvenuto": "22/07/2026"})
    press(worker, form, "Nascita")
    assert state_of(worker) == "Prima rata erogata"
    form = action(worker, "Tessera sanitaria del neonato presentata")
    fill(form, {"Data di presentazione della tessera sanitaria": "03/08/2026", "Data in cui è avvenuto": "03/08/2026"})
    press(worker, form, "Tessera sanitaria del neonato presentata")
    assert state_of(worker) == "Tessera sanitaria presentata"

    csc.goto(f"/casi/{case_id}")
    form = action(csc, "Seconda rata erogata")
    fill(form, {"Data del pagamento": "20/08/2026", "Importo pagato (€)": "750", "Data in cui è avvenuto": "20/08/2026"})
    press(csc, form, "Seconda rata erogata")
    assert state_of(csc) == "Contributo erogato: monitoraggio"

    worker.goto(f"/casi/{case_id}")
    form = action(worker, "Scheda di monitoraggio")
    fill(form, {"Data della scheda di monitoraggio": "10/11/2026",
                "Situazione del nucleo familiare": "la famiglia si è stabilizzata", "Data in cui è avvenuto": "10/11/2026"})
    tick(form, "Beni prima infanzia")
    press(worker, form, "Scheda di monitoraggio")
    assert state_of(worker) == "Contributo erogato: monitoraggio"
    form = action(worker, "Chiusura")
    fill(form, {"Relazione di chiusura": "monitoraggio concluso, contributo usato per il neonato",
                "Data in cui è avvenuto": "19/11/2026"})
    press(worker, form, "Chiusura")
    assert state_of(worker) == "Chiusa"

    assert history(engine, case_id) == [
        "richiedi_colloquio", "rilascia_scheda", "presenta_domanda", "ammetti", "eroga_prima_rata",
        "registra_nascita", "presenta_tessera", "eroga_seconda_rata", "registra_monitoraggio", "chiudi"]
    assert len(worker.get_by_test_id("storia").locator("> li").all()) == 10
    worker.set_viewport_size({"width": 1366, "height": 900})
    screenshot(worker, "caso-bonus-famiglia-chiuso-1366")
    worker.set_viewport_size({"width": 360, "height": 800})
    screenshot(worker, "caso-bonus-famiglia-chiuso-360")
    # the case's own content fits the phone (the shared slim header does not: see the report of issue 10)
    assert worker.locator("main").evaluate("m => Math.max(m.scrollWidth, ...[...m.querySelectorAll('*')]"
                                           ".map(e => e.getBoundingClientRect().right))") <= 360 + 1

    csc.goto(f"/casi/{case_id}")
    assert state_of(csc) == "Chiusa"
    assert "20/07/2026" not in csc.content()  # the expected delivery date is health data: not for CSC
    screenshot(csc, "caso-bonus-famiglia-chiuso-csc")
