"""Login and logout in a real browser."""
from __future__ import annotations

from .conftest import PASSWORD, log_in, screenshot


def test_a_social_worker_logs_in_sees_their_name_and_logs_out(new_page):
    page = new_page()
    page.goto("/profilo")
    assert "/accesso?next=/profilo" in page.url
    screenshot(page, "01-accesso")
    page.fill("#username", "as.rossi")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/profilo")
    assert page.get_by_test_id("utente").inner_text().startswith("As Rossi")
    page.get_by_role("button", name="Esci").click()
    page.wait_for_load_state("networkidle")
    assert "/accesso" in page.url and "Sei uscito" in page.content()
    page.goto("/profilo")
    assert "/accesso" in page.url


def test_a_wrong_password_shows_the_italian_message(new_page):
    page = log_in(new_page(), "as.rossi", "password-sbagliata")
    assert page.get_by_test_id("errore-accesso").inner_text() == "nome utente o password non corretti"
