"""The REST API (/api/v1) read as sentences: integrations with HTTP Basic, browsers with the session cookie."""
from __future__ import annotations

import base64
from datetime import date

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.access import health_reads
from store.tables import case_t, transition_t
from tests.district_world import CREMA, PANDINO
from tests.integration.patto_steps import (
    ASSEGNA,
    MONITORAGGIO,
    VALUTAZIONE,
    patto_firmato,
    segnalazione,
)

from .conftest import PASSWORD, csrf_of

API = "/api/v1"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def api(app, username: str, password: str = PASSWORD) -> TestClient:
    return TestClient(app, headers=basic(username, password))


def history_length(engine, case_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(transition_t)
                            .where(transition_t.c.case_id == case_id)).scalar_one()


def version_of(engine, case_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one()


def test_a_social_worker_opens_a_patto_with_basic_credentials_and_takes_it_to_active(app, web_engine, world):
    rossi, coord = api(app, "as.rossi"), api(app, "coord.crema")
    opened = rossi.post(f"{API}/casi", json={"tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-11-16",
                                             "dati": segnalazione(surname="Neri", name="Paolo")})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    assert opened.headers["location"] == f"{API}/casi/{case_id}"
    assert opened.json()["stato"] == "REFERRED" and opened.json()["versione"] == 1

    offered = {t["nome"]: t for t in coord.get(f"{API}/casi/{case_id}/transizioni").json()}
    assert "assegna" in offered
    assert "assegnatario" in offered["assegna"]["schema_dati"]["properties"]

    step = coord.post(f"{API}/casi/{case_id}/transizioni/assegna",
                      json={"dati": {**ASSEGNA, "primo_colloquio_il": "18/11/2026"}, "efficace_il": "2026-11-18",
                            "versione_attesa": 1})
    assert step.status_code == 200, step.text
    assert step.json()["stato"] == "INTAKE" and step.json()["seq"] == 2
    for name, data in (("avvia_redazione", VALUTAZIONE),
                       ("attiva", patto_firmato(start="01/12/2026", end="31/05/2027") | {"firmato_il": "20/11/2026"})):
        done = rossi.post(f"{API}/casi/{case_id}/transizioni/{name}", json={"dati": data})
        assert done.status_code == 200, done.text
    detail = rossi.get(f"{API}/casi/{case_id}").json()
    assert detail["stato"] == "ACTIVE" and detail["assegnatario"] == "as.rossi"
    assert [h["transizione"] for h in detail["storia"]] == ["segnala", "assegna", "avvia_redazione", "attiva"]
    assert detail["persona"]["cognome"] == "Neri"
    listed = [c["id"] for c in rossi.get(f"{API}/casi", params={"tipo": "patto", "stato": "ACTIVE"}).json()]
    assert case_id in listed and world["patto_crema"] in listed and world["patto_pandino"] not in listed


def test_bad_data_is_refused_with_italian_errors_naming_each_field_and_nothing_is_written(app, web_engine, world):
    rossi = api(app, "as.rossi")
    case_id = world["patto_crema"]
    before = (history_length(web_engine, case_id), version_of(web_engine, case_id))
    r = rossi.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio",
                   json={"dati": {**MONITORAGGIO, "incontro_il": "31/02/2026", "ore_reciprocita": "tante"}})
    assert r.status_code == 422
    errors = {e["campo"]: e for e in r.json()["errori"]}
    assert errors["incontro_il"]["messaggio"] == "data non valida (formato gg/mm/aaaa o aaaa-mm-gg)"
    assert errors["incontro_il"]["etichetta"] == "Data dell'incontro di monitoraggio"
    assert errors["ore_reciprocita"]["messaggio"] == "numero non valido"
    assert (history_length(web_engine, case_id), version_of(web_engine, case_id)) == before


def test_opening_with_missing_data_names_the_missing_fields_in_italian_and_opens_nothing(app, web_engine, world):
    with web_engine.connect() as conn:
        cases_before = conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()
    r = api(app, "as.rossi").post(f"{API}/casi", json={"tipo": "patto", "comune_istat": CREMA, "dati": {}})
    assert r.status_code == 422
    assert {"campo": "persona", "etichetta": "Persona segnalata", "messaggio": "campo obbligatorio"} in r.json()["errori"]
    with web_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one() == cases_before


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(app, web_engine, world):
    rossi = api(app, "as.rossi")
    case_id = world["patto_crema"]
    seen = rossi.get(f"{API}/casi/{case_id}").json()["versione"]
    first = rossi.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio",
                       json={"dati": MONITORAGGIO, "versione_attesa": seen})
    assert first.status_code == 200 and first.json()["versione"] == seen + 1
    again = rossi.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio",
                       json={"dati": MONITORAGGIO, "versione_attesa": seen})
    assert again.status_code == 409
    assert "modificato da un altro utente" in again.json()["detail"]
    assert version_of(web_engine, case_id) == seen + 1


def test_a_case_of_another_sub_ambito_is_refused_to_read_and_to_act_on(app, web_engine, world):
    rossi = api(app, "as.rossi")
    other = world["patto_pandino"]
    before = history_length(web_engine, other)
    assert rossi.get(f"{API}/casi/{other}").status_code == 403
    r = rossi.post(f"{API}/casi/{other}/transizioni/registra_monitoraggio", json={"dati": MONITORAGGIO})
    assert r.status_code == 403 and "sub-ambito" in r.json()["detail"]
    assert history_length(web_engine, other) == before
    opened = rossi.post(f"{API}/casi", json={"tipo": "patto", "comune_istat": PANDINO, "dati": segnalazione()})
    assert opened.status_code == 403


def test_unknown_transitions_huge_ids_and_malformed_json_are_client_errors(app, world):
    rossi = api(app, "as.rossi")
    case_id = world["patto_crema"]
    unknown = rossi.post(f"{API}/casi/{case_id}/transizioni/vola_via", json={"dati": {}})
    assert unknown.status_code == 422 and "non esiste" in unknown.json()["detail"]
    for out_of_range in (2**63, 0, "abc"):  # an id that cannot exist names no case (issue 11: a 404)
        assert rossi.get(f"{API}/casi/{out_of_range}").json() == {"detail": "caso inesistente", "errori": []}
    assert rossi.get(f"{API}/casi/{2**31 - 1}").status_code == 404
    broken = rossi.post(f"{API}/casi/{case_id}/transizioni/sospendi", content=b'{"dati": ',
                        headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["errori"][0]["messaggio"] == "JSON non valido"
    garbage = rossi.post(f"{API}/casi", content=b"\xd1\xc4", headers={"content-type": "application/json"})
    assert garbage.status_code == 422 and garbage.json()["errori"][0]["etichetta"] == "Corpo della richiesta"
    assert rossi.get(f"{API}/casi", params={"limit": 100000}).status_code == 422
    assert rossi.get(f"{API}/casi", params={"tipo": "astronave"}).status_code == 422


def test_without_credentials_or_with_a_wrong_password_the_api_answers_401(app, world):
    assert TestClient(app).get(f"{API}/casi").status_code == 401
    wrong = api(app, "as.rossi", "sbagliata").get(f"{API}/casi")
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")


def test_a_browser_session_reads_with_its_cookie_but_must_send_the_csrf_header_to_post(client_for, web_engine, world):
    client = client_for("as.rossi")
    case_id = world["patto_crema"]
    assert client.get(f"{API}/casi/{case_id}").status_code == 200
    before = history_length(web_engine, case_id)
    refused = client.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio", json={"dati": MONITORAGGIO})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert history_length(web_engine, case_id) == before
    token = csrf_of(client)
    done = client.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio", json={"dati": MONITORAGGIO},
                       headers={"X-CSRF-Token": token})
    assert done.status_code == 200
    assert history_length(web_engine, case_id) == before + 1


def test_after_logging_out_the_same_cookie_gets_401(client_for, world):
    client = client_for("as.rossi")
    token = csrf_of(client)
    assert client.get(f"{API}/tipi").status_code == 200
    client.post("/esci", data={"csrf_token": token}, follow_redirects=False)
    assert client.get(f"{API}/tipi").status_code == 401


def test_the_case_types_describe_states_transitions_and_roles(app, world):
    types = {t["tipo"]: t for t in api(app, "ente.girasole").get(f"{API}/tipi").json()}
    assert set(types) == {"patto", "fna_bando", "fna_domanda", "sad_adesione", "sad_caso", "bonus_famiglia",
                          "misura_esterna"}
    patto = types["patto"]
    assert {"nome": "ACTIVE", "etichetta": patto["stati"][3]["etichetta"], "terminale": False,
            "sospeso": False} in patto["stati"]
    assegna = next(t for t in patto["transizioni"] if t["nome"] == "assegna")
    assert assegna["da"] == ["REFERRED"] and assegna["a"] == "INTAKE" and assegna["ruoli"] == ["subarea_coordinator"]


def test_reading_health_data_through_the_api_is_logged(app, web_engine, world):
    application = world["fna"]
    detail = api(app, "udp.neri").get(f"{API}/casi/{application}").json()
    assert detail["dati"]["invalidita_104_art3c3"] is True
    logged = health_reads(web_engine, case_id=application, username="udp.neri")
    assert len(logged) == 1 and "invalidita_104_art3c3" in logged[0]["campi"]


def test_a_csc_administrator_sees_no_health_data_and_is_told_what_is_hidden(app, web_engine, world):
    detail = api(app, "csc.bianchi").get(f"{API}/casi/{world['fna']}").json()
    assert "invalidita_104_art3c3" not in detail["dati"]
    assert "dati sanitari" in detail["dati_riservati"]
    assert health_reads(web_engine, case_id=world["fna"], username="csc.bianchi") == []


def test_deadlines_of_a_case_and_my_open_deadlines(app, world):
    rossi = api(app, "as.rossi")
    deadlines = rossi.get(f"{API}/casi/{world['patto_crema']}/scadenze").json()
    assert deadlines and all(set(d) >= {"tipo", "scadenza", "stato", "in_ritardo"} for d in deadlines)
    mine = rossi.get(f"{API}/scadenze", params={"entro_giorni": 366}).json()
    assert {d["caso"] for d in mine} <= {world["patto_crema"], world["sad_ente01"], world["minore"]}
    assert all(d["assegnatario"] == "as.rossi" for d in mine)
    late = rossi.get(f"{API}/scadenze", params={"in_ritardo": True}).json()
    assert all(d["in_ritardo"] and date.fromisoformat(d["scadenza"]) < date(2026, 11, 20) for d in late)


def test_indicators_are_for_planning_and_evaluation_roles_with_small_cells_hidden(app, world):
    r = api(app, "ovd.valutatore").get(f"{API}/indicatori", params={"anno": 2026})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["anno"] == 2026 and body["al"] == "2026-11-20" and body["soglia_riservatezza"] >= 2
    activated = next(i for i in body["indicatori"] if i["tipo_caso"] == "patto" and i["totale"]["soppresso"])
    assert activated["totale"]["valore"] is None and activated["totale"]["n"] is None
    crema = api(app, "coord.crema").get(f"{API}/indicatori", params={"anno": 2026, "sub_ambito": "crema"}).json()
    assert crema["sub_ambito"] == "Crema"
    assert all(r["chiave"] == "Crema" for i in crema["indicatori"] for r in i["righe"])
    assert api(app, "as.rossi").get(f"{API}/indicatori").status_code == 403
    assert api(app, "ente.girasole").get(f"{API}/indicatori").status_code == 403
    assert api(app, "udp.neri").get(f"{API}/indicatori", params={"sub_ambito": "Atlantide"}).status_code == 422
    assert api(app, "udp.neri").get(f"{API}/indicatori", params={"anno": 2099}).status_code == 422


def cell_keys(body: dict) -> set[str]:
    """Every breakdown key an indicators answer publishes a cell for (rows and intervals)."""
    keys = {r["chiave"] for section in ("indicatori", "scadenze") for i in body[section] for r in i["righe"]}
    for interval in body["intervalli"]:
        keys |= set(interval["lordo"]) | set(interval["netto_sospensioni"])
    return keys


def test_a_coordinator_reads_through_the_api_only_the_indicators_the_dashboard_shows_them(app, world, client_for):
    everyone = api(app, "udp.neri").get(f"{API}/indicatori", params={"anno": 2026}).json()
    assert "Pandino" in cell_keys(everyone)  # the world has Pandino cells to leak

    crema = api(app, "coord.crema").get(f"{API}/indicatori", params={"anno": 2026})

    assert crema.status_code == 200, crema.text
    assert cell_keys(crema.json()) <= {"Crema", "totale"}
    assert crema.json()["sub_ambito"] == "Crema"
    page = client_for("coord.crema").get("/cruscotto", params={"sub_ambito": "Pandino"})
    refused = api(app, "coord.crema").get(f"{API}/indicatori", params={"anno": 2026, "sub_ambito": "Pandino"})
    assert page.status_code == refused.status_code == 403
    assert "il coordinatore consulta gli indicatori del proprio sub-ambito" in refused.json()["detail"]
    assert "il coordinatore consulta gli indicatori del proprio sub-ambito" in page.text


def test_the_openapi_document_declares_the_error_responses(app):
    spec = TestClient(app).get("/api/openapi.json").json()
    fire = spec["paths"][f"{API}/casi/{{caso_id}}/transizioni/{{nome}}"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(fire["responses"])
    assert spec["components"]["securitySchemes"]["basic"]["scheme"] == "basic"
    assert TestClient(app).get("/api/docs").status_code == 200
