"""The person across measures (DOMAIN.md §13), on SQLite and PostgreSQL: one page per person with the cases the
reader may read and a count of the others, the duplicate warning at referral (page and API), incompatibilities
checked against the person's real cases, the merge of a provisional code and the resolution of a discrepancy."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from domain.errors import GuardRefused
from domain.validation import make_codice_fiscale
from services.cases import CaseService
from store.tables import case_t, person_discrepancy_t, person_merge_t, person_t, transition_t
from tests.district_world import CREMA, PANDINO
from tests.integration.conftest import NOW
from tests.integration.patto_steps import persona, segnalazione

from .conftest import csrf_of
from .test_api import API, api

RIVA = persona("Riva", "Marco")  # the world's patto in Pandino (tests/district_world.py)
FERRI = persona("Ferri", "Elena", date(1941, 9, 12))  # the world's FNA application, in ASSESSMENT
PROVISIONAL = "91000370196"


def count(engine, table=case_t) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def person_id_of(engine, codice_fiscale: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(person_t.c.id).where(person_t.c.codice_fiscale == codice_fiscale)).scalar_one()


def open_for(app, user: str, comune: str, who: dict, **extra):
    return api(app, user).post(f"{API}/casi", json={"tipo": "patto", "comune_istat": comune, "efficace_il": "2026-11-16",
                                                   "dati": {**segnalazione(), "persona": who}, **extra})


def external_measure(service: CaseService, who: dict, misura: str = "B1") -> int:
    return service.open_case(case_type="misura_esterna", actor=service.actor("csc.bianchi"), comune_istat=CREMA,
                             effective_at=date(2026, 3, 1),
                             data={"persona": who, "misura": misura, "ente_erogatore": "ASST Crema", "dal": "01/03/2026"})


# ----------------------------------------------------------------------------- the person's page


def test_the_person_page_lists_the_cases_the_reader_may_read_and_counts_the_others_without_naming_them(
        app, world, client_for, web_engine):
    CaseService(web_engine, clock=lambda: NOW).open_case(
        case_type="sad_caso", actor=CaseService(web_engine).actor("as.verdi"), comune_istat=PANDINO,
        effective_at=date(2026, 4, 1), data={"persona": RIVA, "fonte": "dimissione_protetta"})
    opened = open_for(app, "as.rossi", CREMA, RIVA, motivo="seconda segnalazione")
    assert opened.status_code == 201, opened.text
    person_id = person_id_of(web_engine, RIVA["codice_fiscale"])
    seen = api(app, "as.rossi").get(f"{API}/persone/{person_id}").json()
    assert [c["id"] for c in seen["casi"]] == [opened.json()["id"]]
    assert seen["altri_casi"] == 2
    assert seen["altri_casi_nota"] == ("2 altri casi che non può consultare (altri sub-ambiti o servizi): contatti il "
                                       "coordinatore del sub-ambito Pandino")
    coordinator = api(app, "coord.pandino").get(f"{API}/persone/{person_id}").json()
    assert [c["tipo"] for c in coordinator["casi"]] == ["patto", "sad_caso"] and coordinator["altri_casi"] == 1
    page = client_for("as.rossi").get(f"/casi/{opened.json()['id']}")
    assert f'href="/casi/{opened.json()["id"]}/persona"' in page.text
    followed = client_for("as.rossi").get(f"/casi/{opened.json()['id']}/persona")
    assert followed.status_code == 200 and 'data-testid="altri-casi"' in followed.text
    assert f"/casi/{world['patto_pandino']}" not in followed.text


def test_a_reader_who_may_read_none_of_the_persons_cases_is_told_nothing(app, world, web_engine, client_for):
    person_id = person_id_of(web_engine, RIVA["codice_fiscale"])
    assert api(app, "as.rossi").get(f"{API}/persone/{person_id}").status_code == 404
    assert client_for("as.rossi").get(f"/persone/{person_id}").status_code == 404
    assert api(app, "as.rossi").get(f"{API}/casi/{world['patto_pandino']}/persona").status_code == 403


# ----------------------------------------------------------------------------- a second open case at referral


def test_the_api_refuses_a_second_open_case_of_the_same_type_unless_a_reason_is_given(app, world, web_engine):
    before = count(web_engine)
    refused = open_for(app, "as.verdi", PANDINO, RIVA)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (f"la persona ha già un caso aperto di tipo «Patto gener-attivo» (caso aperto "
                                        f"n. {world['patto_pandino']}): per aprirne un altro indicare il motivo")
    assert count(web_engine) == before
    opened = open_for(app, "as.verdi", PANDINO, RIVA, motivo="nuovo nucleo familiare, patto distinto")
    assert opened.status_code == 201, opened.text
    with web_engine.connect() as conn:
        reason = conn.execute(sa.select(transition_t.c.reason).where(
            transition_t.c.case_id == opened.json()["id"], transition_t.c.seq == 1)).scalar_one()
    assert reason == "nuovo nucleo familiare, patto distinto"


def test_an_opener_out_of_scope_learns_only_that_an_open_case_exists_and_whom_to_ask(app, world):
    refused = open_for(app, "as.rossi", CREMA, RIVA)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "1 altro caso che non può consultare" in detail and "coordinatore del sub-ambito Pandino" in detail
    assert str(world["patto_pandino"]) not in detail and "Riva" not in detail


def test_the_new_referral_page_shows_the_open_case_and_opens_with_a_reason(world, client_for, web_engine):
    client = client_for("as.verdi")
    form = {"tipo": "patto", "tipo_modulo": "patto", "comune_istat": PANDINO,
            **{f"persona.{k}": v for k, v in RIVA.items()}, "fonte": "comune", "bisogno": "abitativo"}
    before = count(web_engine)
    shown = client.post("/casi/nuovo", data={"csrf_token": csrf_of(client, "/casi/nuovo"), **form})
    assert shown.status_code == 409
    assert f"caso aperto n. {world['patto_pandino']}" in shown.text and "indicare il motivo" in shown.text
    assert count(web_engine) == before
    done = client.post("/casi/nuovo", follow_redirects=False,
                       data={"csrf_token": csrf_of(client, "/casi/nuovo"), **form, "motivo": "patto distinto"})
    assert done.status_code == 303 and count(web_engine) == before + 1


# ----------------------------------------------------------------------------- incompatibilities, real cases


def test_an_fna_admission_is_refused_when_the_person_has_a_b1_case_in_legami_although_the_form_declares_none(
        world, web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    external_measure(service, FERRI, "B1")
    with pytest.raises(GuardRefused) as refused:
        service.advance(case_id=world["fna"], transition="ammetti", actor=service.actor("asst.medici"),
                        effective_at=date(2026, 6, 25),
                        data={"adl": 4, "iadl": 6, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})
    assert "Misura B1" in str(refused.value) and "non la dichiara" in str(refused.value)


def test_an_ended_external_measure_no_longer_excludes_the_fna_admission(world, web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    b1 = external_measure(service, FERRI, "B1")
    service.advance(case_id=b1, transition="cessa", actor=service.actor("csc.bianchi"), effective_at=date(2026, 5, 31),
                    data={"al": "31/05/2026"})
    service.advance(case_id=world["fna"], transition="ammetti", actor=service.actor("asst.medici"),
                    effective_at=date(2026, 6, 25),
                    data={"adl": 4, "iadl": 6, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})


# ----------------------------------------------------------------------------- identity hygiene


def _provisional_case(app, user: str, comune: str, surname: str = "Ferrari") -> int:
    who = {"codice_fiscale": PROVISIONAL, "cognome": surname, "nome": "Ada", "data_nascita": "1970-02-01"}
    opened = open_for(app, user, comune, who)
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def test_a_coordinator_merges_a_provisional_code_into_the_definitive_one_and_the_merge_is_recorded(
        app, world, web_engine):
    case_id = _provisional_case(app, "as.rossi", CREMA)
    definitive = make_codice_fiscale("Ferrari", "Ada", date(1970, 2, 1), "F", "D142")
    refused = api(app, "as.rossi").post(f"{API}/persone/unione", json={
        "provvisorio": PROVISIONAL, "definitivo": definitive, "motivo": "codice attribuito dall'Agenzia"})
    assert refused.status_code == 403
    merged = api(app, "coord.crema").post(f"{API}/persone/unione", json={
        "provvisorio": PROVISIONAL, "definitivo": definitive, "motivo": "codice attribuito dall'Agenzia"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["casi_spostati"] == [case_id]
    shown = api(app, "as.rossi").get(f"{API}/casi/{case_id}").json()
    assert shown["persona"]["codice_fiscale"] == definitive
    with web_engine.connect() as conn:
        assert conn.execute(sa.select(person_merge_t.c.provisional_code, person_merge_t.c.merged_by)).all() == [
            (PROVISIONAL, "coord.crema")]


def test_a_provisional_code_merges_into_a_person_already_known_by_the_definitive_code(app, world, web_engine):
    bassi = persona("Bassi", "Ugo", date(1970, 2, 1))  # the birth date typed with the provisional code
    other = open_for(app, "as.rossi", CREMA, bassi)
    case_id = _provisional_case(app, "as.rossi", CREMA, surname="Bassi")
    before = count(web_engine, person_t)
    merged = api(app, "coord.crema").post(f"{API}/persone/unione", json={
        "provvisorio": PROVISIONAL, "definitivo": bassi["codice_fiscale"], "motivo": "stessa persona"})
    assert merged.status_code == 200, merged.text
    assert count(web_engine, person_t) == before - 1
    page = api(app, "coord.crema").get(f"{API}/persone/{merged.json()['persona']}").json()
    assert {c["id"] for c in page["casi"]} == {other.json()["id"], case_id}


def test_a_definitive_code_of_another_birth_date_is_refused_naming_both_dates(app, world, web_engine):
    _provisional_case(app, "as.rossi", CREMA)
    other_day = make_codice_fiscale("Ferrari", "Ada", date(1971, 2, 1), "F", "D142")
    refused = api(app, "coord.crema").post(f"{API}/persone/unione", json={
        "provvisorio": PROVISIONAL, "definitivo": other_day, "motivo": "codice attribuito"})
    assert refused.status_code == 422
    assert "01/02/1971, in archivio il 01/02/1970" in refused.json()["errori"][0]["messaggio"]
    assert count(web_engine, person_merge_t) == 0


def test_omocodia_variants_are_never_merged(app, world, web_engine):
    code = RIVA["codice_fiscale"]
    variant = code[:14] + "L" + code[15]  # a digit of the code replaced by its omocodia letter
    refused = api(app, "coord.pandino").post(f"{API}/persone/unione", json={
        "provvisorio": code[:11], "definitivo": variant, "motivo": "omocodia"})
    assert refused.status_code == 422
    assert count(web_engine, person_merge_t) == 0


def test_a_name_discrepancy_is_flagged_and_an_entitled_reader_resolves_it(app, world, client_for, web_engine):
    opened = open_for(app, "as.rossi", CREMA, {**RIVA, "cognome": "Rossetti"}, motivo="altro comune")
    case_id = opened.json()["id"]
    person_id = person_id_of(web_engine, RIVA["codice_fiscale"])
    coordinator = client_for("coord.pandino")
    refused = api(app, "coord.crema").post(f"{API}/casi/{case_id}/discrepanza", json={"esito": "archivio"})
    assert refused.status_code == 403  # Crema's coordinator may not read Riva's patto in Pandino
    page = coordinator.get(f"/persone/{person_id}")
    assert 'data-testid="discrepanze-anagrafiche"' in page.text and "«Rossetti»" in page.text
    done = coordinator.post(f"/persone/{person_id}/discrepanze/{case_id}", follow_redirects=False,
                            data={"csrf_token": csrf_of(coordinator), "esito": "archivio", "nota": "refuso"})
    assert done.status_code == 303
    assert "«Rossetti»" not in coordinator.get(f"/persone/{person_id}").text
    with web_engine.connect() as conn:
        assert conn.execute(sa.select(person_discrepancy_t.c.resolution, person_discrepancy_t.c.resolved_by)).all() \
            == [("archivio", "coord.pandino")]
        assert conn.execute(sa.select(person_t.c.cognome).where(person_t.c.id == person_id)).scalar_one() == "Riva"


def test_the_merge_form_on_the_persons_page_moves_the_cases_and_a_wrong_code_is_refused_naming_the_field(
        app, world, client_for, web_engine):
    case_id = _provisional_case(app, "as.rossi", CREMA)
    person_id = person_id_of(web_engine, PROVISIONAL)
    assert 'data-testid="modulo-unione"' not in client_for("as.rossi").get(f"/persone/{person_id}").text
    coordinator = client_for("coord.crema")
    assert 'data-testid="modulo-unione"' in coordinator.get(f"/persone/{person_id}").text
    wrong = coordinator.post(f"/persone/{person_id}/unione", data={
        "csrf_token": csrf_of(coordinator), "provvisorio": PROVISIONAL, "definitivo": "RSSMRA80A01D142Z",
        "motivo": "codice attribuito"})
    assert wrong.status_code == 422 and "codice definitivo" in wrong.text and count(web_engine, person_merge_t) == 0
    definitive = make_codice_fiscale("Ferrari", "Ada", date(1970, 2, 1), "F", "D142")
    done = coordinator.post(f"/persone/{person_id}/unione", follow_redirects=True, data={
        "csrf_token": csrf_of(coordinator), "provvisorio": PROVISIONAL, "definitivo": definitive,
        "motivo": "codice attribuito"})
    assert done.status_code == 200 and 'data-testid="unioni"' in done.text and definitive in done.text
    assert f'href="/casi/{case_id}"' in done.text
