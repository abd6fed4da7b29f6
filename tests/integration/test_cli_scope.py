"""The `legami` command acts as the user named by `--actor`: that user's scope, the same redaction and the
same health-read log as the web pages and the API (services/access.py), on SQLite and PostgreSQL.

The district world of tests/district_world.py: a patto in Crema (as.rossi) and one in Pandino (as.verdi),
SAD cases in Crema (as.rossi owns one, with ADL/IADL scores), an FNA application in Crema, the call.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from services.access import health_reads
from services.setup import ensure_user
from store.db import cached_engine
from store.tables import case_t, transition_t
from tests.district_world import CREMA, EXTRA_USERS, build_world

from .patto_steps import segnalazione

runner = CliRunner()
OUT_OF_SCOPE = "Errore: accesso negato: il caso non appartiene ai comuni del suo sub-ambito"


@pytest.fixture
def world(db_url, engine, service, monkeypatch):
    """The district world, and the `legami` command pointed at the same database."""
    with engine.begin() as conn:
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    ids = build_world(service)
    ids["segnalazione_crema"] = service.open_case(case_type="patto", actor=service.actor("as.rossi"),
                                                  comune_istat=CREMA, effective_at=date(2026, 3, 2),
                                                  data=segnalazione(surname="Conti", name="Luca"))
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield ids
    cached_engine(db_url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def refused_with(result, message: str) -> bool:
    """Exit 1 and one Italian line on stderr (no traceback, nothing else)."""
    assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code == 1 and result.stderr.strip() == message and "Traceback" not in result.output


def case_row(engine, case_id: int):
    with engine.connect() as conn:
        row = conn.execute(sa.select(case_t.c.state, case_t.c.version).where(case_t.c.id == case_id)).one()
        steps = conn.execute(sa.select(sa.func.count()).select_from(transition_t)
                             .where(transition_t.c.case_id == case_id)).scalar()
    return row.state, row.version, steps


def count_cases(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar()


# ----------------------------------------------------------------------------- out of scope: refused, nothing written


def test_a_worker_of_another_sub_ambito_cannot_show_a_case(engine, world):
    result = invoke("case", "show", str(world["sad_ente01"]), "--actor", "as.verdi", "--json")
    assert refused_with(result, OUT_OF_SCOPE), result.output
    assert "Colombo" not in result.output
    assert health_reads(engine, case_id=world["sad_ente01"]) == []


def test_a_worker_of_another_sub_ambito_cannot_archive_a_referral(engine, world):
    case_id = world["segnalazione_crema"]
    before = case_row(engine, case_id)
    result = invoke("case", "advance", str(case_id), "archivia", "--actor", "as.verdi", "--motivo", "prova")
    assert refused_with(result, OUT_OF_SCOPE), result.output
    assert case_row(engine, case_id) == before == ("REFERRED", before[1], 1)


def test_a_worker_of_another_sub_ambito_cannot_open_a_case_in_a_comune_not_theirs(engine, world):
    before = count_cases(engine)
    result = invoke("case", "open", "patto", "--actor", "as.verdi", "--comune", CREMA,
                    "--data", json.dumps(segnalazione(surname="Neri", name="Ugo")))
    assert refused_with(result, OUT_OF_SCOPE), result.output
    assert count_cases(engine) == before


def test_the_worker_of_the_sub_ambito_still_opens_advances_and_shows_cases(engine, world):
    opened = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", CREMA,
                    "--data", json.dumps(segnalazione(surname="Neri", name="Ugo")), "--json")
    assert opened.exit_code == 0, opened.output
    case_id = json.loads(opened.output)["id"]
    archived = invoke("case", "advance", str(case_id), "archivia", "--actor", "as.rossi", "--motivo", "doppione",
                      "--json")
    assert archived.exit_code == 0, archived.output
    assert json.loads(archived.output) == {"id": case_id, "seq": 2, "stato": "ARCHIVED"}
    shown = json.loads(invoke("case", "show", str(case_id), "--actor", "as.rossi", "--json").output)
    assert shown["stato"] == "ARCHIVED" and shown["persona"]["cognome"] == "Neri"


def test_lists_and_summaries_hold_only_the_cases_of_the_actors_scope(engine, world):
    listed = json.loads(invoke("case", "list", "--tipo", "patto", "--actor", "as.verdi", "--json").output)
    assert [r["id"] for r in listed] == [world["patto_pandino"]]
    summary = json.loads(invoke("case", "summary", "--actor", "as.verdi", "--json").output)
    assert {(r["tipo"], r["stato"]): r["casi"] for r in summary if r["tipo"] in ("patto", "sad_caso")} == {
        ("patto", "ACTIVE"): 1}
    crema = json.loads(invoke("case", "list", "--tipo", "patto", "--actor", "as.rossi", "--json").output)
    assert {r["id"] for r in crema} == {world["patto_crema"], world["minore"], world["segnalazione_crema"]}


# ----------------------------------------------------------------------------- health data: redacted or logged


def test_the_owner_reads_the_health_data_of_her_case_and_the_read_is_logged(engine, world):
    case_id = world["sad_ente01"]
    result = invoke("case", "show", str(case_id), "--actor", "as.rossi", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["dati"]["adl"], shown["dati"]["iadl"]) == (3, 5)
    reads = health_reads(engine, case_id=case_id)
    assert [(r["utente"], r["ruolo"]) for r in reads] == [("as.rossi", "social_worker")]
    assert {"adl", "iadl"} <= set(reads[0]["campi"])
    text = invoke("case", "show", str(case_id), "--actor", "as.rossi")
    assert text.exit_code == 0 and "adl: 3" in text.output
    assert len(health_reads(engine, case_id=case_id)) == 2


def test_a_csc_administrative_reader_gets_no_health_fields_and_logs_no_read(engine, world):
    for key in ("sad_ente01", "fna"):
        result = invoke("case", "show", str(world[key]), "--actor", "csc.bianchi", "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        kept = set(shown["dati"]) | {k for h in shown["storia"] for k in h["dati"]}
        assert not kept & {"adl", "iadl", "invalidita_104_art3c3", "indennita_accompagnamento"}, key
        assert "dati sanitari" in shown["dati_riservati"], key
        assert health_reads(engine, case_id=world[key]) == [], key
    text = invoke("case", "show", str(world["sad_ente01"]), "--actor", "csc.bianchi").output
    assert "adl" not in text and "Dati riservati al suo ruolo: dati sanitari" in text


# ----------------------------------------------------------------------------- errors at the edge


def test_unknown_users_and_cases_are_one_italian_line_and_exit_1(engine, world):
    unknown = invoke("case", "show", str(world["patto_crema"]), "--actor", "nessuno")
    assert refused_with(unknown, "Errore: accesso negato: utente inesistente o disattivato («nessuno»)"), \
        unknown.output
    missing = invoke("case", "show", "999999", "--actor", "as.rossi")
    assert refused_with(missing, "Errore: caso 999999 inesistente"), missing.output
    list_unknown = invoke("case", "list", "--actor", "nessuno")
    assert refused_with(list_unknown, "Errore: accesso negato: utente inesistente o disattivato («nessuno»)")


def test_show_and_list_require_an_actor(world):
    for args in (("case", "show", str(world["patto_crema"])), ("case", "list")):
        result = invoke(*args)
        assert result.exit_code == 2 and "--actor" in result.output, args
