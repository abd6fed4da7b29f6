"""The case diary (issue 13 item 1, DOMAIN.md §13), on both databases: entries written through the case page, the
API and the CLI and shown in the case's timeline; a health entry sealed, hidden from a CSC reader and from a
colleague, its reads by the owner logged; a correction that supersedes without deleting; out of scope refused at
every entrance; the rows append-only and chained, so `legami audit verify` covers them."""
from __future__ import annotations

import base64
import html
import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.access import health_reads
from services.audit import verify
from store.tables import diary_entry_t, health_data_t
from tests.web.conftest import PASSWORD, csrf_of

runner = CliRunner()


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def api(app):
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, headers=basic(username))
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def cli(db_url, web_engine, monkeypatch):
    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine

    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield lambda *args: runner.invoke(app, list(args))
    cached_engine(db_url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def entry(**overrides) -> dict:
    return {"tipo": "visita_domiciliare", "avvenuto_il": "18/11/2026 10:30", "partecipanti": ["Anna Conti"],
            "testo": "Casa in ordine, la signora chiede aiuto per le bollette.", "classe": "sociale"} | overrides


def rows(engine, case_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(diary_entry_t).where(diary_entry_t.c.case_id == case_id)
                            .order_by(diary_entry_t.c.seq)).all()


def diary_logs(engine, username: str) -> list[dict]:
    return [r for r in health_reads(engine, username=username) if r["contesto"] == "diario"]


# ----------------------------------------------------------------------------- three entrances, one timeline


def test_entries_written_through_the_page_the_api_and_the_cli_appear_in_the_case_timeline(
        world, client_for, api, cli, web_engine):
    case_id = world["patto_crema"]
    page = client_for("as.rossi")
    posted = page.post(f"/casi/{case_id}/diario", follow_redirects=False, data={
        "csrf_token": csrf_of(page, f"/casi/{case_id}"), "tipo": "colloquio", "avvenuto_il": "16/11/2026 09:15",
        "partecipanti": "Mario Bianchi, Lucia Bianchi", "testo": "Primo colloquio in sede.", "classe": "sociale"})
    assert posted.status_code == 303 and posted.headers["location"] == f"/casi/{case_id}?voce=1#diario"

    answer = api("as.rossi").post(f"/api/v1/casi/{case_id}/diario", json=entry())
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"caso": case_id, "numero": 2, "url": f"/api/v1/casi/{case_id}/diario"}

    added = cli("diario", "add", str(case_id), "--actor", "as.rossi", "--tipo", "telefonata", "--il", "19/11/2026 16:00",
                "--testo", "Telefonata con il medico di base.", "--partecipanti", "Dott. Ferri", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"caso": case_id, "numero": 3}

    listed = api("as.rossi").get(f"/api/v1/casi/{case_id}/diario").json()
    assert [(e["numero"], e["tipo"], e["autore"], e["classe"]) for e in listed] == [
        (1, "colloquio", "as.rossi", "sociale"), (2, "visita_domiciliare", "as.rossi", "sociale"),
        (3, "telefonata", "as.rossi", "sociale")]
    assert listed[0]["partecipanti"] == ["Mario Bianchi", "Lucia Bianchi"]
    assert listed[1]["avvenuto_il"].startswith("2026-11-18T10:30:00+01:00")

    shown = html.unescape(page.get(f"/casi/{case_id}?voce=1").text)
    assert "Voce n. 1 registrata nel diario." in shown
    timeline = shown[shown.index('data-testid="storia"'):shown.index('id="diario"')]
    # woven among the steps by date: the patto was activated on 02/02/2026, the entries came after
    assert timeline.index("Firma e attivazione del patto") < timeline.index("Diario n. 1: Colloquio") \
        < timeline.index("Diario n. 2: Visita domiciliare") < timeline.index("Diario n. 3: Telefonata")
    assert "Primo colloquio in sede." in timeline and "Dott. Ferri" in timeline

    text = cli("diario", "list", str(case_id), "--actor", "as.rossi")
    assert text.exit_code == 0 and "n. 3 · Telefonata · 19/11/2026 16:00 · as.rossi" in text.output


def test_a_case_type_adds_its_own_kind_of_entry_and_an_unknown_kind_is_refused_naming_the_field(world, api):
    sad, patto = world["sad_ente01"], world["patto_crema"]
    client = api("as.rossi")
    assert client.post(f"/api/v1/casi/{sad}/diario", json=entry(tipo="verifica_ente")).status_code == 201
    refused = client.post(f"/api/v1/casi/{patto}/diario", json=entry(tipo="verifica_ente"))
    assert refused.status_code == 422
    assert refused.json()["errori"][0]["etichetta"] == "Tipo di voce"


def test_bad_input_is_refused_in_italian_naming_the_field_and_nothing_is_written(world, client_for, api, cli,
                                                                               web_engine):
    case_id = world["patto_crema"]
    future = api("as.rossi").post(f"/api/v1/casi/{case_id}/diario", json=entry(avvenuto_il="21/11/2026 09:00"))
    assert future.status_code == 422
    assert future.json()["errori"] == [{"campo": "avvenuto_il", "etichetta": "Data e ora del contatto",
                                        "messaggio": "non può essere nel futuro"}]
    page = client_for("as.rossi")
    shown = page.post(f"/casi/{case_id}/diario", data={
        "csrf_token": csrf_of(page, f"/casi/{case_id}"), "tipo": "colloquio", "avvenuto_il": "31/02/2026",
        "testo": "", "classe": "sociale"})
    assert shown.status_code == 422
    errors = html.unescape(shown.text)
    assert "Data e ora del contatto:" in errors and "Testo: campo obbligatorio" in errors
    too_long = cli("diario", "add", str(case_id), "--actor", "as.rossi", "--tipo", "colloquio", "--il", "01/11/2026",
                   "--testo", "x" * 8001)
    assert too_long.exit_code == 1 and "«Testo»: può contenere al massimo 8000 caratteri" in too_long.stderr
    assert rows(web_engine, case_id) == []


# ----------------------------------------------------------------------------- health entries


def test_a_health_entry_is_sealed_hidden_from_csc_and_a_colleague_and_logged_when_the_owner_reads_it(
        world, client_for, api, cli, web_engine):
    case_id = world["sad_ente01"]  # owned by as.rossi
    secret = "Terapia insulinica, glicemie instabili."
    assert api("as.rossi").post(f"/api/v1/casi/{case_id}/diario", json=entry(classe="sociale")).status_code == 201
    assert api("as.rossi").post(f"/api/v1/casi/{case_id}/diario",
                                json=entry(classe="sanitaria", testo=secret, partecipanti=["Dott.ssa Riva"])
                                ).status_code == 201
    sealed = rows(web_engine, case_id)[1]
    assert (sealed.text, sealed.participants, sealed.sealed, sealed.data_class) == (None, [], True, "health")
    with web_engine.connect() as conn:
        part = conn.execute(sa.select(health_data_t.c.ciphertext).where(
            health_data_t.c.case_id == case_id, health_data_t.c.seq == -2)).scalar_one()
    assert b"insulinica" not in bytes(part)

    for reader in ("csc.bianchi", "as.bruni"):  # CSC sees no notes at all; a colleague sees social notes only
        listed = api(reader).get(f"/api/v1/casi/{case_id}/diario")
        assert listed.status_code == 200
        assert [e["numero"] for e in listed.json()] == ([] if reader == "csc.bianchi" else [1])
        assert secret not in client_for(reader).get(f"/casi/{case_id}").text
        assert secret not in cli("diario", "list", str(case_id), "--actor", reader, "--json").output
        assert diary_logs(web_engine, reader) == []
    refused = api("as.bruni").post(f"/api/v1/casi/{case_id}/diario", json=entry(classe="sanitaria"))
    assert refused.status_code == 403 and "dati sanitari" in refused.json()["detail"]
    assert api("csc.bianchi").post(f"/api/v1/casi/{case_id}/diario", json=entry()).status_code == 403

    owner = api("as.rossi").get(f"/api/v1/casi/{case_id}/diario").json()
    assert owner[1]["testo"] == secret and owner[1]["partecipanti"] == ["Dott.ssa Riva"]
    assert secret in html.unescape(client_for("as.rossi").get(f"/casi/{case_id}").text)
    logged = diary_logs(web_engine, "as.rossi")
    assert [(r["caso"], r["campi"]) for r in logged] == [(case_id, ["diario:2"]), (case_id, ["diario:2"])]


# ----------------------------------------------------------------------------- append-only, corrections, audit


def test_a_correction_supersedes_an_entry_without_deleting_it(world, api, web_engine):
    case_id = world["patto_crema"]
    client = api("as.rossi")
    client.post(f"/api/v1/casi/{case_id}/diario", json=entry(testo="Presenti i due figli."))
    fixed = client.post(f"/api/v1/casi/{case_id}/diario", json=entry(testo="Presente un solo figlio.", rettifica_di=1))
    assert fixed.status_code == 201 and fixed.json()["numero"] == 2
    listed = client.get(f"/api/v1/casi/{case_id}/diario").json()
    assert [(e["numero"], e["testo"], e["rettifica_di"], e["rettificata_da"]) for e in listed] == [
        (1, "Presenti i due figli.", None, 2), (2, "Presente un solo figlio.", 1, None)]
    again = client.post(f"/api/v1/casi/{case_id}/diario", json=entry(rettifica_di=1))
    assert again.status_code == 422 and "già rettificata dalla voce n. 2" in again.text
    missing = client.post(f"/api/v1/casi/{case_id}/diario", json=entry(rettifica_di=9))
    assert missing.status_code == 422 and missing.json()["errori"][0]["campo"] == "rettifica_di"
    for statement in (sa.update(diary_entry_t).values(text="riscritto"), sa.delete(diary_entry_t)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with web_engine.begin() as conn:
                conn.execute(statement)
    assert len(rows(web_engine, case_id)) == 2


def test_audit_verify_covers_the_diary_and_names_a_rewritten_entry(world, api, web_engine, db_url):
    case_id = world["sad_ente01"]
    for kind, cls in (("colloquio", "sociale"), ("relazione", "sanitaria")):
        assert api("as.rossi").post(f"/api/v1/casi/{case_id}/diario",
                                    json=entry(tipo=kind, classe=cls)).status_code == 201
    result = verify(web_engine)
    assert result.ok, result.breaks
    assert result.diary_entries == 2
    with web_engine.begin() as conn:  # a database administrator lifts the guard and rewrites an entry
        if db_url.startswith("sqlite"):
            conn.execute(sa.text("DROP TRIGGER diary_entry_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE diary_entry DISABLE TRIGGER diary_entry_append_only"))
        conn.execute(sa.update(diary_entry_t).where(diary_entry_t.c.seq == 1).values(text="riscritto"))
    broken = verify(web_engine)
    assert [(b.chain, b.row) for b in broken.breaks] == [(f"diario del caso {case_id}", "voce 1")]
    if not db_url.startswith("sqlite"):
        with web_engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE diary_entry ENABLE ALWAYS TRIGGER diary_entry_append_only"))


# ----------------------------------------------------------------------------- out of scope


def test_out_of_scope_the_page_the_api_and_the_cli_refuse_and_nothing_is_written(world, client_for, api, cli,
                                                                               web_engine):
    case_id = world["patto_crema"]  # Crema; as.verdi works in Pandino
    page = client_for("as.verdi")
    posted = page.post(f"/casi/{case_id}/diario", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "tipo": "colloquio", "avvenuto_il": "16/11/2026", "testo": "prova",
        "classe": "sociale"})
    assert posted.status_code == 403
    assert api("as.verdi").post(f"/api/v1/casi/{case_id}/diario", json=entry()).status_code == 403
    assert api("as.verdi").get(f"/api/v1/casi/{case_id}/diario").status_code == 403
    for args in (("add", "--tipo", "colloquio", "--il", "16/11/2026", "--testo", "prova"), ("list",)):
        result = cli("diario", args[0], str(case_id), "--actor", "as.verdi", *args[1:])
        assert result.exit_code == 1 and result.stderr.startswith("Errore: accesso negato: "), result.output
    assert rows(web_engine, case_id) == []


# ----------------------------------------------------------------------------- the digest


def test_the_morning_digest_tells_the_owner_what_colleagues_wrote_on_her_cases_without_the_text(
        world, api, web_engine):
    from datetime import date

    from notifications.render import render
    from services.sweep import run_deadline_sweep
    from store.tables import outbox_t

    case_id = world["patto_crema"]  # owned by as.rossi
    assert api("coord.crema").post(f"/api/v1/casi/{case_id}/diario",
                                   json=entry(tipo="riunione_equipe", classe="sanitaria",
                                              testo="Valutazione neuropsichiatrica in corso.")).status_code == 201
    assert api("as.rossi").post(f"/api/v1/casi/{case_id}/diario", json=entry()).status_code == 201  # her own: not told
    run_deadline_sweep(web_engine, as_of=date(2026, 11, 21))  # the entries were recorded on 20/11 (the app's clock)
    again = run_deadline_sweep(web_engine, as_of=date(2026, 11, 21))
    assert again.queued == 0
    with web_engine.connect() as conn:
        digest = conn.execute(sa.select(outbox_t.c.payload).where(
            outbox_t.c.recipient == "as.rossi@example.org", outbox_t.c.template == "digest")).scalar_one()
    news = [v for v in digest["voci"] if v["categoria"] == "diario"]
    assert [(v["caso_id"], v["etichetta"]) for v in news] == [(case_id, "Riunione d'équipe, voce n. 1 di Coord Crema")]
    mail = render("digest", digest, base_url="https://legami.example.org")
    assert "SCRITTO DA COLLEGHI NEL DIARIO DEI SUOI CASI (1)" in mail.text
    assert "Scritta il 20/11/2026" in mail.text and "1 voce di diario" in mail.subject
    assert "neuropsichiatrica" not in mail.text + mail.html
