"""Bonus Famiglia through /api/v1, on SQLite and PostgreSQL (DOMAIN.md §12): CSC opens a pregnancy for the
comune's social worker, who holds the interview and helps with the application; CSC records the Region's
admission and the two instalments, the worker the birth, the tessera sanitaria, the monitoring and the closure.
A refused guard is a 422 in Italian and writes nothing; a worker of another sub-ambito is refused; the expected
delivery date (health data) is hidden from CSC and shown to the owner, whose read is logged."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fastapi.testclient import TestClient

from domain.validation import make_codice_fiscale
from services.access import health_reads
from store.tables import case_t, transition_t
from tests.district_world import CREMA

from .test_api import API, api, history_length, version_of

DUE = "20/07/2026"  # the expected delivery date: health data (art. 9 GDPR)


def request(surname: str = "Ferrari") -> dict:
    born = date(1991, 2, 14)
    mother = {"codice_fiscale": make_codice_fiscale(surname, "Anna", born, "F", "D142"), "cognome": surname,
              "nome": "Anna", "data_nascita": born.isoformat()}
    return {"persona": mother, "evento": "gravidanza", "figli": 1, "data_presunta_parto": DUE,
            "richiesto_il": "02/03/2026", "assegnatario": "as.rossi", "inviante": "Consultorio di Crema"}


SHEET = {"colloquio_il": "09/03/2026", "aree_vulnerabilita": ["economica", "abitativa"],
         "note_colloquio": "nucleo monoreddito in affitto", "scheda_rilasciata_il": "09/03/2026"}
APPLICATION = {"id_domanda_regionale": "BF-2026-000777", "presentata_il": "16/03/2026",
               "isee": {"tipo": "ordinario", "valore": "14500", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                        "data_dsu": "2026-01-10"},
               "anni_residenza_richiedente": 10, "anni_residenza_altro_genitore": 7}
MONITORING = {"compilata_il": "10/11/2026", "situazione_nucleo": "la famiglia si è stabilizzata",
              "uso_contributo": ["beni_prima_infanzia", "utenze_affitto"]}


def open_pregnancy(client: TestClient, surname: str = "Ferrari") -> int:
    opened = client.post(f"{API}/casi", json={"tipo": "bonus_famiglia", "comune_istat": CREMA,
                                              "efficace_il": "2026-03-02", "dati": request(surname)})
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def fire(client: TestClient, case_id: int, name: str, data: dict, on: str):
    return client.post(f"{API}/casi/{case_id}/transizioni/{name}", json={"dati": data, "efficace_il": on})


def advanced(client: TestClient, case_id: int, name: str, data: dict, on: str) -> str:
    done = fire(client, case_id, name, data, on)
    assert done.status_code == 200, done.text
    return done.json()["stato"]


def unchanged(engine, case_id: int):
    return history_length(engine, case_id), version_of(engine, case_id)


def test_csc_opens_a_pregnancy_for_the_comunes_worker_and_it_goes_to_closure(app, web_engine, world):
    csc, worker = api(app, "csc.bianchi"), api(app, "as.rossi")
    opened = csc.post(f"{API}/casi", json={"tipo": "bonus_famiglia", "comune_istat": CREMA,
                                           "efficace_il": "2026-03-02", "dati": request()})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    assert opened.headers["location"] == f"{API}/casi/{case_id}"
    assert opened.json()["stato"] == "INTERVIEW_REQUESTED"
    assert worker.get(f"{API}/casi/{case_id}").json()["assegnatario"] == "as.rossi"
    mine = [c["id"] for c in worker.get(f"{API}/casi", params={"tipo": "bonus_famiglia"}).json()]
    assert case_id in mine

    assert advanced(worker, case_id, "rilascia_scheda", SHEET, "2026-03-09") == "SHEET_ISSUED"
    assert advanced(worker, case_id, "presenta_domanda", APPLICATION, "2026-03-16") == "SUBMITTED"
    assert advanced(csc, case_id, "ammetti", {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1500"},
                    "2026-04-20") == "ADMITTED"
    assert advanced(csc, case_id, "eroga_prima_rata", {"pagato_il": "05/05/2026", "importo": "750"},
                    "2026-05-05") == "FIRST_PAID"
    assert advanced(worker, case_id, "registra_nascita", {"nato_il": "18/07/2026", "nati": 1},
                    "2026-07-22") == "FIRST_PAID"
    assert advanced(worker, case_id, "presenta_tessera", {"tessera_presentata_il": "03/08/2026"},
                    "2026-08-03") == "HEALTH_CARD"
    assert advanced(csc, case_id, "eroga_seconda_rata", {"pagato_il": "20/08/2026", "importo": "750"},
                    "2026-08-20") == "MONITORING"
    assert advanced(worker, case_id, "registra_monitoraggio", MONITORING, "2026-11-10") == "MONITORING"
    closing = fire(worker, case_id, "chiudi", {"relazione_finale": "monitoraggio concluso"}, "2026-11-19")
    assert closing.status_code == 200, closing.text
    assert closing.json()["stato"] == "CLOSED" and closing.json()["stato_etichetta"] == "Chiusa"

    detail = worker.get(f"{API}/casi/{case_id}").json()
    assert [h["transizione"] for h in detail["storia"]] == [
        "richiedi_colloquio", "rilascia_scheda", "presenta_domanda", "ammetti", "eroga_prima_rata",
        "registra_nascita", "presenta_tessera", "eroga_seconda_rata", "registra_monitoraggio", "chiudi"]
    assert detail["tipologia"] == "gravidanza"
    assert worker.get(f"{API}/casi/{case_id}/transizioni").json() == []  # closed: nothing more to do


def test_a_wrong_amount_is_refused_with_an_italian_422_and_nothing_is_written(app, web_engine, world):
    csc, worker = api(app, "csc.bianchi"), api(app, "as.rossi")
    case_id = open_pregnancy(worker)
    advanced(worker, case_id, "rilascia_scheda", SHEET, "2026-03-09")
    advanced(worker, case_id, "presenta_domanda", APPLICATION, "2026-03-16")

    before = unchanged(web_engine, case_id)
    granted = fire(csc, case_id, "ammetti", {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1800"},
                   "2026-04-20")
    assert granted.status_code == 422
    assert [e["messaggio"] for e in granted.json()["errori"]] == [
        "importo concesso € 1.800,00 diverso da € 1.500,00 (€ 1.500,00 per 1 figlio)"]
    assert unchanged(web_engine, case_id) == before

    advanced(csc, case_id, "ammetti", {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1500"},
             "2026-04-20")
    before = unchanged(web_engine, case_id)
    instalment = fire(csc, case_id, "eroga_prima_rata", {"pagato_il": "05/05/2026", "importo": "1500"}, "2026-05-05")
    assert instalment.status_code == 422
    assert "importo della prima rata € 1.500,00 diverso da quello dovuto (€ 750,00)" in instalment.json()["detail"]
    assert unchanged(web_engine, case_id) == before

    nothing = fire(csc, case_id, "eroga_prima_rata", {"pagato_il": "05/05/2026", "importo": "0"}, "2026-05-05")
    assert nothing.status_code == 422
    error = next(e for e in nothing.json()["errori"] if e["campo"] == "importo")
    assert error["etichetta"] == "Importo pagato (€)"
    assert unchanged(web_engine, case_id) == before

    card = fire(worker, case_id, "presenta_tessera", {"tessera_presentata_il": "03/08/2026"}, "2026-08-03")
    assert card.status_code == 422  # still ADMITTED: the tessera comes after the first instalment and the birth
    assert unchanged(web_engine, case_id) == before


def test_a_pregnancy_without_its_expected_delivery_date_is_refused_and_opens_nothing(app, web_engine, world):
    with web_engine.connect() as conn:
        cases_before = conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()
    data = {k: v for k, v in request().items() if k != "data_presunta_parto"}
    r = api(app, "as.rossi").post(f"{API}/casi", json={"tipo": "bonus_famiglia", "comune_istat": CREMA,
                                                       "efficace_il": "2026-03-02", "dati": data})
    assert r.status_code == 422
    assert "per una gravidanza indicare la data presunta del parto" in r.json()["detail"]
    with web_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one() == cases_before


def test_a_worker_of_another_sub_ambito_is_refused_and_nothing_is_written(app, web_engine, world):
    case_id = open_pregnancy(api(app, "as.rossi"))
    verdi = api(app, "as.verdi")  # a social worker of Pandino
    before = unchanged(web_engine, case_id)
    read = verdi.get(f"{API}/casi/{case_id}")
    assert read.status_code == 403 and "Ferrari" not in read.text
    step = fire(verdi, case_id, "rilascia_scheda", SHEET, "2026-03-09")
    assert step.status_code == 403
    assert unchanged(web_engine, case_id) == before
    with web_engine.connect() as conn:
        cases_before = conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()
    opened = verdi.post(f"{API}/casi", json={"tipo": "bonus_famiglia", "comune_istat": CREMA,
                                             "efficace_il": "2026-03-02", "dati": request("Conti")})
    assert opened.status_code == 403
    with web_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one() == cases_before
        assert conn.execute(sa.select(sa.func.count()).select_from(transition_t)
                            .where(transition_t.c.case_id == case_id)).scalar_one() == before[0]


def test_the_expected_delivery_date_is_hidden_from_csc_and_shown_to_the_owner_whose_read_is_logged(
        app, web_engine, world):
    case_id = open_pregnancy(api(app, "csc.bianchi"))
    seen_by_csc = api(app, "csc.bianchi").get(f"{API}/casi/{case_id}")
    assert seen_by_csc.status_code == 200
    assert seen_by_csc.json()["dati"]["figli"] == 1  # CSC reads what sets the amount
    assert "data_presunta_parto" not in seen_by_csc.json()["dati"]
    assert "dati sanitari" in seen_by_csc.json()["dati_riservati"]
    assert "2026-07-20" not in seen_by_csc.text and DUE not in seen_by_csc.text  # not in the history either
    assert health_reads(web_engine, case_id=case_id, username="csc.bianchi") == []

    seen_by_owner = api(app, "as.rossi").get(f"{API}/casi/{case_id}").json()
    assert seen_by_owner["dati"]["data_presunta_parto"] in (DUE, "2026-07-20")
    logged = health_reads(web_engine, case_id=case_id, username="as.rossi")
    assert len(logged) == 1 and "data_presunta_parto" in logged[0]["campi"]
