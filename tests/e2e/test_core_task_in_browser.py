"""The core task in the browser, following only what the screen says (issue 12): a social worker records a
referral and reads that it now waits for the coordinator; the coordinator finds it on Oggi among the referrals to
assign and assigns it; the worker finds it on Oggi among the cases newly assigned to her and takes it to «Attivo».
Every pointer the test follows (a menu entry, a sentence, a row, an action) is asserted before it is followed; no
URL is typed but the login's. The pages are photographed at 1366 and 360 px."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Locator, Page, expect

from domain.validation import make_codice_fiscale

from .conftest import log_in, screenshot

SURNAME, NAME = "Ferrari", "Elena"
CF = make_codice_fiscale(SURNAME, NAME, date(1979, 9, 14), "F", "D142")


def labelled(scope: Locator, label: str) -> Locator:
    """The field whose label reads `label` (a required field's label ends in « *»)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def fill(scope: Locator, values: dict[str, str]) -> None:
    for label, value in values.items():
        field = labelled(scope, label)
        if field.evaluate("e => e.tagName.toLowerCase()") == "select":
            field.select_option(label=value)
        else:
            field.fill(value)


def group(scope: Locator, name: str) -> Locator:
    """A fieldset by its legend («Obiettivo 1», «Misura economica»)."""
    return scope.get_by_role("group", name=re.compile(rf"^{re.escape(name)}( \*)?$"))


def tick(form: Locator, label: str) -> None:
    box = labelled(form, label)
    if not box.is_checked():
        form.locator(f'label[for="{box.get_attribute("id")}"]').click()
    assert box.is_checked(), label


def press(page: Page, form: Locator, button: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=button).click()
    page.wait_for_load_state("networkidle")


def menu(page: Page, entry: str) -> None:
    link = page.get_by_role("link", name=entry, exact=True).first
    expect(link).to_be_visible()
    link.click()
    page.wait_for_load_state("networkidle")


def pointer(page: Page) -> str:
    """The sentence under the state saying what the case waits for and who acts next."""
    return page.get_by_test_id("in-attesa").inner_text().strip()


def action(page: Page, label: str) -> Locator:
    """The action the user reads in «Azioni disponibili», opened, as its form."""
    section = page.locator("section", has=page.get_by_role("heading", name="Azioni disponibili"))
    details = section.locator("details", has=page.locator("summary", has_text=label)).first
    expect(details).to_be_visible()
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


def both_sizes(page: Page, name: str) -> None:
    for width in (1366, 360):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 740})
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_referral_reaches_attivo_following_only_what_the_screen_says(new_page, live_server):
    # 1. the worker records the referral from the menu and reads who acts next
    worker = log_in(new_page(), "as.rossi")
    menu(worker, "Nuova segnalazione")
    form = worker.get_by_test_id("nuova-segnalazione")
    expect(labelled(form, "Tipo di caso")).to_have_value("patto")
    fill(form, {"Comune di residenza": "Crema (Crema)", "Codice fiscale": CF, "Cognome": SURNAME, "Nome": NAME,
                "Data di nascita": "14/09/1979", "Fonte della segnalazione": "Caritas",
                "Area di bisogno": "Utenze"})
    expect(labelled(form, "Data in cui è avvenuto")).to_have_value("")  # blank: today
    press(worker, form, "Registra la segnalazione")
    expect(worker.get_by_test_id("eseguita")).to_have_text("Registrato: «Segnalazione».")
    expect(worker.get_by_test_id("stato")).to_have_text("Segnalato")
    waits = pointer(worker)
    assert waits.startswith("In attesa di «Assegnazione e primo colloquio» da parte del coordinatore del "
                            "sub-ambito di Crema"), waits
    assert "Coord Crema" in waits  # the coordinator by name
    expect(worker.get_by_test_id("assegnatario")).to_have_text("non ancora assegnato")
    # what she may still do is secondary and says so; it is not the big blue button
    expect(worker.get_by_role("heading", name=re.compile("^Altre azioni"))).to_be_visible()
    archive = worker.get_by_test_id("azione-archivia")
    assert archive.get_attribute("open") is None
    assert "btn-primary" not in (archive.locator("button[type=submit]").get_attribute("class") or "")
    case_id = int(re.search(r"/casi/(\d+)", worker.url).group(1))
    both_sizes(worker, "compito-1-segnalazione-registrata")

    # 2. the coordinator finds it on Oggi, the oldest referral to assign first, and assigns it
    coordinator = log_in(new_page(), "coord.crema")
    menu(coordinator, "Oggi")
    queue = coordinator.get_by_test_id("da-assegnare")
    expect(coordinator.get_by_role("heading", name=re.compile(r"^Segnalazioni da assegnare \(\d+\)"))).to_be_visible()
    row = queue.locator("tr", has_text=f"{SURNAME} {NAME}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(re.compile(r"\d\d/\d\d/\d{4}"))  # with its deadline
    both_sizes(coordinator, "compito-2-oggi-coordinatore")
    row.get_by_role("link", name=f"Patto gener-attivo n. {case_id}").click()
    coordinator.wait_for_load_state("networkidle")
    assert pointer(coordinator) == "Tocca a lei: «Assegnazione e primo colloquio»."
    form = action(coordinator, "Assegnazione e primo colloquio")
    assignee = labelled(form, "Assistente sociale assegnatario")
    assert "As Rossi" in assignee.locator("option").all_inner_texts()  # by name
    fill(form, {"Assistente sociale assegnatario": "As Rossi", "Data del primo colloquio": "19/11/2026"})
    press(coordinator, form, "Assegnazione e primo colloquio")
    expect(coordinator.get_by_test_id("eseguita")).to_have_text("Registrato: «Assegnazione e primo colloquio».")
    expect(coordinator.get_by_test_id("stato")).to_have_text("Presa in carico")
    assert pointer(coordinator).startswith(
        "In attesa di «Analisi e avvio della redazione del patto» da parte dell'assistente sociale titolare, As Rossi")
    expect(coordinator.get_by_test_id("assegnatario")).to_have_text("As Rossi")
    menu(coordinator, "Oggi")
    expect(coordinator.get_by_test_id("da-assegnare").locator("tr", has_text=f"{SURNAME} {NAME}")).to_have_count(0)

    # 3. the worker finds it on Oggi among the cases newly assigned to her and takes it to «Attivo»
    menu(worker, "Oggi")
    expect(worker.get_by_role("heading", name=re.compile(r"^Casi assegnati a lei da avviare"))).to_be_visible()
    row = worker.get_by_test_id("assegnati").locator("tr", has_text=f"{SURNAME} {NAME}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Analisi e avvio della redazione del patto")  # the next step, named
    both_sizes(worker, "compito-3-oggi-assistente-sociale")
    row.get_by_role("link", name=f"Patto gener-attivo n. {case_id}").click()
    worker.wait_for_load_state("networkidle")
    assert pointer(worker) == "Tocca a lei: «Analisi e avvio della redazione del patto»."
    form = action(worker, "Analisi e avvio della redazione del patto")
    fill(form, {"Tipologia di patto": "Inclusione", "Bisogni rilevati": "debiti sulle utenze",
                "Risorse della persona e della rete": "rete parrocchiale", "Componenti del nucleo familiare": "3"})
    fill(group(form, "Attestazione ISEE"), {"Tipo ISEE": "Ordinario", "Valore ISEE (€)": "6500",
                                             "Data di presentazione DSU": "10/01/2026",
                                             "Protocollo DSU": "INPS-ISEE-2026-ABCDE1234-00"})
    press(worker, form, "Analisi e avvio della redazione del patto")
    expect(worker.get_by_test_id("stato")).to_have_text("Patto in redazione")
    assert pointer(worker) == "Tocca a lei: «Firma e attivazione del patto»."

    form = action(worker, "Firma e attivazione del patto")
    fill(form, {"Canale (progetto Wel(l)FARE Legami o patto ulteriore)": "Progetto Wel(l)FARE Legami"})
    fill(group(form, "Obiettivo 1"), {"Descrizione": "rientro dal debito", "Indicatore": "bollette pagate",
                                          "Valore atteso": "6"})
    fill(group(form, "Impegno di reciprocità 1"), {"Attività di restituzione": "doposcuola",
                                                       "Ente ospitante": "Parrocchia", "Ore settimanali": "4"})
    fill(group(form, "Misura economica"), {"Tipo di erogazione": "Mensile", "Importo per erogazione (€)": "400",
                                           "Numero di mensilità": "6"})
    tick(group(form, "Voci di spesa"), "Sostegno al reddito")
    fill(form, {"Data di inizio": "01/12/2026", "Data di fine": "31/05/2027", "Data di firma": "20/11/2026",
                "Firmatari (beneficiario e adulti coinvolti)": f"{NAME} {SURNAME}"})
    tick(form, "Firma dell'assistente sociale")
    tick(form, "Informativa privacy presa visione")
    press(worker, form, "Firma e attivazione del patto")
    expect(worker.get_by_test_id("eseguita")).to_have_text("Registrato: «Firma e attivazione del patto».")
    expect(worker.get_by_test_id("stato")).to_have_text("Attivo")
    assert pointer(worker).startswith("Tocca a lei: «Monitoraggio»")
    # the history: four steps, people by name, the pact's objectives as one table, the latest steps unfolded
    steps = worker.get_by_test_id("storia").locator("> li")
    expect(steps).to_have_count(4)
    expect(steps.nth(1)).to_contain_text("Coord Crema")
    expect(steps.nth(3).locator("table caption", has_text="Obiettivi (1)")).to_be_visible()
    assert "as.rossi" not in worker.get_by_test_id("storia").inner_text()
    both_sizes(worker, "compito-4-patto-attivo")
    menu(worker, "Oggi")
    expect(worker.get_by_test_id("assegnati").locator("tr", has_text=f"{SURNAME} {NAME}")).to_have_count(0)
