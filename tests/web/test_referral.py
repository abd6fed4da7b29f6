"""A referral for a person already known elsewhere (DOMAIN.md §13 "Out of scope"), the link to a previous patto,
and a day no policy covers: on the pages and the API, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from store.tables import case_t
from tests.district_world import CREMA, PANDINO
from tests.integration.patto_steps import ASSEGNA, persona, segnalazione

from .conftest import csrf_of
from .test_api import API, api

# the world's patto in Pandino is for Marco Riva, born 04/05/1980 (tests/district_world.py)
STORED = persona("Riva", "Marco")
STORED_TRACES = ("Riva", "1980-05-04", "04/05/1980")


def case_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()


def typed_as(surname: str) -> dict:
    """Marco Riva's codice fiscale typed with another surname (the birth date is the code's own)."""
    return {**segnalazione(), "persona": {**STORED, "cognome": surname}}


def test_a_worker_who_types_a_codice_fiscale_known_only_in_another_sub_ambito_learns_only_whom_to_contact(
        app, world, client_for):
    rossi = api(app, "as.rossi")
    opened = rossi.post(f"{API}/casi", json={"tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16",
                                             "motivo": "seconda segnalazione", "dati": typed_as("Rossetti")})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    notice = opened.json()["persona_nota"]
    assert "già nota ai servizi" in notice and "coordinatore del sub-ambito Pandino" in notice
    detail = rossi.get(f"{API}/casi/{case_id}")
    assert detail.json()["persona"]["cognome"] == "Rossetti"  # what the worker typed, not the stored name
    assert detail.json()["persona_nota"] == notice
    assert detail.json()["discrepanze_anagrafiche"] == []
    page = client_for("as.rossi").get(f"/casi/{case_id}")
    assert page.status_code == 200 and "coordinatore del sub-ambito Pandino" in page.text
    for answer in (opened.text, detail.text, page.text):
        for trace in STORED_TRACES:
            assert trace not in answer


def test_the_new_referral_form_answers_with_the_same_notice_and_no_stored_identity(world, client_for, web_engine):
    client = client_for("as.rossi")
    token = csrf_of(client, "/casi/nuovo")
    typed = typed_as("Rossetti")
    response = client.post("/casi/nuovo", follow_redirects=True, data={
        "csrf_token": token, "tipo": "patto", "tipo_modulo": "patto", "comune_istat": CREMA,
        **{f"persona.{k}": v for k, v in typed["persona"].items()}, "fonte": "comune", "bisogno": "abitativo",
        "motivo": "seconda segnalazione"})
    assert response.status_code == 200, response.text
    assert "già nota ai servizi" in response.text and "coordinatore del sub-ambito Pandino" in response.text
    assert "Rossetti" in response.text
    for trace in STORED_TRACES:
        assert trace not in response.text


def test_the_coordinator_of_the_persons_sub_ambito_sees_the_discrepancy_and_nothing_typed_is_dropped(
        app, world, client_for):
    opened = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione", "dati": typed_as("Rossetti")})
    assert opened.status_code == 201, opened.text
    for reader, case_id in (("coord.pandino", world["patto_pandino"]), ("as.verdi", world["patto_pandino"])):
        detail = api(app, reader).get(f"{API}/casi/{case_id}").json()
        assert detail["persona"]["cognome"] == "Riva"
        assert detail["persona_nota"] is None
        [discrepancy] = detail["discrepanze_anagrafiche"]
        assert discrepancy["caso"] == opened.json()["id"] and discrepancy["sub_ambito"] == "Crema"
        assert {(f["campo"], f["in_archivio"], f["indicato"]) for f in discrepancy["campi"]} == {
            ("cognome", "Riva", "Rossetti")}
    page = client_for("coord.pandino").get(f"/casi/{world['patto_pandino']}").text
    assert 'data-testid="discrepanze-anagrafiche"' in page and "«Rossetti»" in page and "«Riva»" in page


def test_a_referral_that_matches_the_stored_identity_records_no_discrepancy(app, world):
    opened = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione", "dati": typed_as("RIVA ")})
    assert opened.status_code == 201, opened.text
    assert "Pandino" in opened.json()["persona_nota"]
    detail = api(app, "coord.pandino").get(f"{API}/casi/{world['patto_pandino']}").json()
    assert detail["discrepanze_anagrafiche"] == []


def test_a_referral_for_a_person_the_worker_may_already_read_has_no_notice(app, world):
    opened = api(app, "as.verdi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": PANDINO, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione", "dati": typed_as("Riva")})
    assert opened.status_code == 201, opened.text
    assert opened.json()["persona_nota"] is None


# ----------------------------------------------------------------------------- the case list and its search


def _open_as_rossetti(app) -> int:
    opened = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione", "dati": typed_as("Rossetti")})
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def _listed(html: str) -> dict[int, str]:
    """{case id: its row's markup} of the /casi list (the results table only)."""
    if 'data-testid="elenco-casi"' not in html:
        return {}
    table = html[html.index('data-testid="elenco-casi"'):]
    table = table[:table.index("</table>")]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr data-caso="(\d+)">(.*?)</tr>', table, re.DOTALL)}


def test_the_case_list_shows_the_worker_the_name_they_typed_and_never_the_stored_one(app, world, client_for):
    case_id = _open_as_rossetti(app)
    page = client_for("as.rossi").get("/casi").text
    row = _listed(page)[case_id]
    assert "Rossetti Marco" in row and STORED["codice_fiscale"] in row
    for trace in STORED_TRACES:
        assert trace not in page
    assert 'data-testid="discrepanza-anagrafica"' not in page  # she does not know the stored identity


def test_the_search_finds_a_referral_by_the_name_typed_and_not_by_the_stored_one_out_of_scope(
        app, world, client_for):
    case_id = _open_as_rossetti(app)
    client = client_for("as.rossi")
    assert case_id in _listed(client.get("/casi", params={"q": "rossetti"}).text)
    assert case_id in _listed(client.get("/casi", params={"q": "Marco Rossetti"}).text)
    by_code = client.get("/casi", params={"q": STORED["codice_fiscale"]}).text
    assert "Rossetti Marco" in _listed(by_code)[case_id] and "Riva" not in by_code
    assert case_id not in _listed(client.get("/casi", params={"q": "Riva"}).text)  # the stored name tells nothing
    assert case_id not in _listed(client.get("/casi", params={"q": "Riva Marco"}).text)


def test_the_coordinator_who_knows_the_stored_identity_sees_the_discrepancy_in_the_list_and_the_search(
        app, world, client_for):
    case_id = _open_as_rossetti(app)
    client = client_for("coord.pandino")
    for params in ({}, {"q": "Riva"}, {"q": "Rossetti"}):
        page = client.get("/casi", params=params).text
        rows = _listed(page)
        assert case_id not in rows, params  # the Crema referral itself stays out of her scope
        row = rows[world["patto_pandino"]]
        assert "Riva Marco" in row, params
        assert 'data-testid="discrepanza-anagrafica"' in row and "«Rossetti»" in row and "«Riva»" in row, params
    assert world["patto_pandino"] not in _listed(client.get("/casi", params={"q": "Bianchi"}).text)


# ----------------------------------------------------------------------------- patto_precedente


def test_a_previous_patto_the_worker_may_not_read_is_refused_naming_the_field(app, world, web_engine):
    before = case_count(web_engine)
    refused = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione",
        "dati": {**segnalazione(surname="Neri", name="Paolo"), "patto_precedente": world["patto_pandino"]}})
    assert refused.status_code == 422, refused.text
    assert "Patto precedente (rinnovo)" in refused.json()["detail"]
    assert "Riva" not in refused.text
    missing = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione",
        "dati": {**segnalazione(surname="Neri", name="Paolo"), "patto_precedente": 999_999}})
    assert missing.status_code == 422 and missing.json()["detail"] == refused.json()["detail"].replace(
        str(world["patto_pandino"]), "999999")  # an unreadable case and a missing one answer alike
    assert case_count(web_engine) == before


def test_a_previous_patto_the_worker_may_read_is_accepted_and_advancing_cannot_set_one(app, world):
    rossi = api(app, "as.rossi")
    opened = rossi.post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16", "motivo": "seconda segnalazione",
        "dati": {**segnalazione(surname="Neri", name="Paolo"), "patto_precedente": world["patto_crema"]}})
    assert opened.status_code == 201, opened.text
    step = api(app, "coord.crema").post(f"{API}/casi/{opened.json()['id']}/transizioni/assegna", json={
        "dati": {**ASSEGNA, "primo_colloquio_il": "18/11/2026", "patto_precedente": world["patto_pandino"]}})
    assert step.status_code == 422 and "patto_precedente" in step.text


# ----------------------------------------------------------------------------- no policy in force


def test_opening_on_a_day_before_every_policy_is_an_italian_422_naming_the_day(app, world, web_engine, client_for):
    before = case_count(web_engine)
    refused = api(app, "as.rossi").post(f"{API}/casi", json={
        "tipo": "patto", "comune_istat": CREMA, "efficace_il": "2019-03-15", "dati": segnalazione()})
    assert refused.status_code == 422, refused.text
    assert re.search(r"nessuna politica in vigore al 15/03/2019", refused.json()["detail"])
    client = client_for("as.rossi")
    p = persona("Moretti", "Anna", date(1975, 2, 3))
    page = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/casi/nuovo"), "tipo": "patto", "tipo_modulo": "patto", "efficace_il":
        "15/03/2019", "comune_istat": CREMA, **{f"persona.{k}": v for k, v in p.items()}, "fonte": "comune",
        "bisogno": "abitativo"})
    assert page.status_code == 422 and "nessuna politica in vigore al 15/03/2019" in page.text
    assert case_count(web_engine) == before
