"""The import page in the browser (issue 14 item 1): the Crema coordinator uploads a CSV as Italian Excel saves it,
runs the dry run (its problem listed by row and column, nothing written), then loads the corrected file and opens
the imported case."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from domain.import_template import COMUNE, EXTERNAL_ID, STATE
from domain.validation import make_codice_fiscale
from tests.web.test_import_page import REFERRAL, patto_csv

from .conftest import log_in, screenshot
from .test_accessibility import _problems

PERSON = {**REFERRAL, "Segnalazione · Persona segnalata › Codice fiscale":
          make_codice_fiscale("Importata", "Anna", date(1970, 3, 4), "F", "D142"),
          "Segnalazione · Persona segnalata › Cognome": "Importata", "Segnalazione · Persona segnalata › Nome": "Anna",
          "Segnalazione · Persona segnalata › Data di nascita": "04/03/1970",
          EXTERNAL_ID: "E2E-1", STATE: "Segnalato", COMUNE: "Crema"}


def _send(page, content: bytes, button: str) -> None:
    page.goto("/importa")
    page.get_by_label("Tipo di caso").select_option("patto")
    page.get_by_label("File compilato").set_input_files({"name": "patti.csv", "mimeType": "text/csv",
                                                         "buffer": content})
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def test_a_coordinator_dry_runs_then_loads_a_file_on_the_import_page(new_page):
    page = log_in(new_page(), "coord.crema")
    _send(page, patto_csv({**PERSON, "Segnalazione · Area di bisogno": "lunare"}), "Prova (non scrive nulla)")
    expect(page.get_by_test_id("stato")).to_have_attribute("data-stato", "finito", timeout=15000)
    expect(page.get_by_test_id("problemi")).to_contain_text("Segnalazione · Area di bisogno")
    expect(page.get_by_test_id("problemi")).to_contain_text("valore «lunare» non ammesso")
    screenshot(page, "importazione-prova")
    assert _problems(page, "importazione-prova-desktop") == []  # axe, one h1, no horizontal scroll

    _send(page, patto_csv(PERSON), "Carica")
    expect(page.get_by_test_id("stato")).to_have_attribute("data-stato", "finito", timeout=15000)
    expect(page.get_by_test_id("esito")).to_contain_text("Casi importati: 1")
    page.get_by_test_id("casi-importati").get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("Patto gener-attivo")
    expect(page.locator("main")).to_contain_text("Importata")
