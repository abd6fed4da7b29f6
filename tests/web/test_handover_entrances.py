"""Hand-over, deputies and transfers through the pages and the API (issue 13 item 2), on both databases: the
coordinator reassigns from the case's «Passaggio» page, hands over a worker's cases after a preview on «Consegne e
sostituti», names a deputy who then records a monitoring through the API; the API answers Italian 422s and 403s."""
from __future__ import annotations

import sqlalchemy as sa

from store.tables import case_t, outbox_t, transition_t
from tests.district_world import PANDINO
from tests.web.conftest import csrf_of
from tests.web.test_diary import cli  # noqa: F401  (the CLI fixture)
from tests.web.test_handover import MONITORING, api  # noqa: F401  (the API client fixture)

API = "/api/v1"


def owner(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(case_t.c.owner, case_t.c.comune_istat).where(case_t.c.id == case_id)).one()


def templates(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox_t.c.template).order_by(outbox_t.c.id)).scalars())


def test_the_coordinator_reassigns_from_the_case_page_and_a_missing_reason_is_named(world, client_for, web_engine):
    case_id = world["patto_crema"]
    page = client_for("coord.crema")
    assert 'data-testid="link-passaggio"' in page.get(f"/casi/{case_id}").text
    assert 'data-testid="link-passaggio"' not in client_for("as.rossi").get(f"/casi/{case_id}").text
    form = page.get(f"/casi/{case_id}/passaggio")
    assert form.status_code == 200 and "Riassegna a un'altra assistente sociale" in form.text
    token = csrf_of(page, f"/casi/{case_id}/passaggio")
    missing = page.post(f"/casi/{case_id}/riassegnazione", data={"csrf_token": token,
                                                                 "nuovo_assegnatario": "as.bruni", "motivo": ""})
    assert missing.status_code == 422 and "Motivo: obbligatorio" in missing.text
    done = page.post(f"/casi/{case_id}/riassegnazione", follow_redirects=False,
                     data={"csrf_token": token, "nuovo_assegnatario": "as.bruni", "motivo": "Carico di lavoro"})
    assert done.status_code == 303 and owner(web_engine, case_id).owner == "as.bruni"
    timeline = page.get(f"/casi/{case_id}").text
    assert "Riassegnazione del caso" in timeline and "Carico di lavoro" in timeline
    assert client_for("as.rossi").get(f"/casi/{case_id}/passaggio").status_code == 403


def test_a_bulk_hand_over_on_the_page_shows_the_preview_then_confirms(world, client_for, web_engine):
    page = client_for("coord.crema")
    preview = page.get("/consegne", params={"assegnatario": "as.rossi", "a_tutti": "as.bruni"})
    assert preview.status_code == 200 and preview.text.count('data-testid="caso-in-consegna"') == 3
    assert owner(web_engine, world["patto_crema"]).owner == "as.rossi"
    done = page.post("/consegne", follow_redirects=False, data={
        "csrf_token": csrf_of(page, "/consegne"), "assegnatario": "as.rossi", "a_tutti": "as.bruni",
        "motivo": "Pensionamento", "azione": "conferma"})
    assert done.status_code == 303 and done.headers["location"] == "/consegne?fatto=3"
    assert owner(web_engine, world["minore"]).owner == "as.bruni"
    assert client_for("as.rossi").get("/consegne").status_code == 403


def test_a_deputy_named_on_the_page_records_a_monitoring_through_the_api_with_both_names(
        world, client_for, api, web_engine):
    case_id = world["patto_crema"]
    page = client_for("coord.crema")
    bad = page.post("/consegne/sostituti", data={"csrf_token": csrf_of(page, "/consegne"), "assegnatario": "as.rossi",
                                                 "sostituto": "as.bruni", "dal": "20/11/2026", "al": "10/11/2026"})
    assert bad.status_code == 422 and "Al: non può precedere la data di inizio (20/11/2026)" in bad.text
    named = page.post("/consegne/sostituti", follow_redirects=False, data={
        "csrf_token": csrf_of(page, "/consegne"), "assegnatario": "as.rossi", "sostituto": "as.bruni",
        "dal": "20/11/2026", "al": "04/12/2026"})
    assert named.status_code == 303 and 'data-testid="sostituzioni"' in page.get("/consegne").text
    bruni = api("as.bruni")
    r = bruni.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio", json={"dati": MONITORING})
    assert r.status_code == 200, r.text
    with web_engine.connect() as conn:
        step = conn.execute(sa.select(transition_t).where(transition_t.c.case_id == case_id)
                            .order_by(transition_t.c.seq.desc())).first()
    assert (step.actor, step.on_behalf_of) == ("as.bruni", "as.rossi")
    assert "per conto di As Rossi" in page.get(f"/casi/{case_id}").text
    listed = api("coord.crema").get(f"{API}/sostituti").json()
    ended = api("coord.crema").post(f"{API}/sostituti/{listed[0]['id']}/fine")
    assert ended.status_code == 204
    again = bruni.post(f"{API}/casi/{case_id}/transizioni/registra_monitoraggio", json={"dati": MONITORING})
    assert again.status_code == 403


def test_the_api_reassigns_transfers_and_names_deputies_with_italian_errors(world, api, web_engine):
    coord, case_id = api("coord.crema"), world["patto_crema"]
    missing = coord.post(f"{API}/casi/{case_id}/riassegnazione", json={"nuovo_assegnatario": "as.bruni", "motivo": ""})
    assert missing.status_code == 422 and missing.json()["errori"][0]["etichetta"] == "Motivo"
    assert api("as.rossi").post(f"{API}/casi/{case_id}/riassegnazione",
                                json={"nuovo_assegnatario": "as.bruni", "motivo": "x"}).status_code == 403
    preview = coord.post(f"{API}/consegne/anteprima", json={"assegnatario": "as.rossi", "a_tutti": "as.bruni"})
    assert preview.status_code == 200 and preview.json()["pronto"] and len(preview.json()["casi"]) == 3
    bad = coord.post(f"{API}/sostituti", json={"assegnatario": "as.rossi", "sostituto": "as.bruni",
                                               "dal": "32/11/2026", "al": "30/11/2026"})
    assert bad.status_code == 422 and bad.json()["errori"][0]["etichetta"] == "Dal"
    moved = coord.post(f"{API}/casi/{case_id}/trasferimento", json={"nuovo_comune": PANDINO, "motivo": "Residenza"})
    assert moved.status_code == 200 and owner(web_engine, case_id) == (None, PANDINO)
    assert coord.get(f"{API}/casi/{case_id}").status_code == 403
    assert api("coord.pandino").get(f"{API}/casi/{case_id}").status_code == 200
    assert templates(web_engine).count("caso_trasferito") == 3


def test_the_cli_previews_and_confirms_a_hand_over_names_a_deputy_and_reassigns_with_json(world, web_engine, cli):
    import json

    preview = cli("case", "consegna", "as.rossi", "--actor", "coord.crema", "--a", "as.bruni", "--json")
    assert preview.exit_code == 0, preview.output
    assert json.loads(preview.output)["pronto"] and owner(web_engine, world["minore"]).owner == "as.rossi"
    refused = cli("case", "consegna", "as.rossi", "--actor", "coord.crema", "--a", "as.bruni", "--conferma")
    assert refused.exit_code == 1 and "«Motivo»: obbligatorio" in refused.output
    done = cli("case", "consegna", "as.rossi", "--actor", "coord.crema", "--a", "as.bruni",
               "--caso", f"{world['minore']}=as.bruni", "--motivo", "Pensionamento", "--conferma", "--json")
    assert done.exit_code == 0 and len(json.loads(done.output)) == 3
    back = cli("case", "riassegna", str(world["patto_crema"]), "--actor", "coord.crema", "--a", "as.rossi",
               "--motivo", "Rientro in servizio", "--json")
    assert back.exit_code == 0 and json.loads(back.output)["assegnatario"] == "as.rossi"
    bad = cli("sostituti", "add", "--actor", "coord.crema", "--assegnatario", "as.rossi", "--sostituto", "as.bruni",
              "--dal", "30/11/2026", "--al", "20/11/2026")
    assert bad.exit_code == 1 and "«Al»: non può precedere" in bad.output
    added = cli("sostituti", "add", "--actor", "coord.crema", "--assegnatario", "as.rossi", "--sostituto",
                "as.bruni", "--dal", "01/01/2030", "--al", "31/01/2030", "--json")
    assert added.exit_code == 0, added.output
    listed = cli("sostituti", "list", "--actor", "coord.crema", "--json")
    assert [r["sostituto"] for r in json.loads(listed.output)] == ["as.bruni"]
    moved = cli("case", "trasferisci", str(world["patto_crema"]), "--actor", "coord.crema", "--comune", "Pandino",
                "--motivo", "Residenza", "--json")
    assert moved.exit_code == 0 and owner(web_engine, world["patto_crema"]).comune_istat == PANDINO


def test_a_deputys_oggi_and_deadlines_hold_the_absent_workers_cases_while_the_period_lasts(world, client_for, api,
                                                                                            web_engine):
    from services import handover
    from services.access import principal_for
    from tests.integration.conftest import NOW

    case_id, bruni = world["patto_crema"], api("as.bruni")
    assert case_id not in {d["caso"] for d in bruni.get(f"{API}/scadenze", params={"entro_giorni": 366}).json()}
    assert f'href="/casi/{case_id}"' not in client_for("as.bruni").get("/oggi").text
    handover.name_deputy(web_engine, principal_for(web_engine, "coord.crema"),
                         {"assegnatario": "as.rossi", "sostituto": "as.bruni", "dal": "20/11/2026", "al": "04/12/2026"},
                         now=NOW)
    assert case_id in {d["caso"] for d in bruni.get(f"{API}/scadenze", params={"entro_giorni": 366}).json()}
    assert f'href="/casi/{case_id}"' in client_for("as.bruni").get("/oggi").text
