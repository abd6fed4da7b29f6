"""The audit history is tamper-evident (issue 11), on SQLite and PostgreSQL: each rewrite found by trial is refused
by the database, and what an attacker with full database rights can still do (lift the triggers, rewrite rows,
even recompute every hash) is named by `legami audit verify`, case and row."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app as cli_app
from config.settings import get_settings
from domain.access import Principal
from domain.audit import GENESIS, row_hash
from domain.workflow import Role
from services.access import log_health_read
from services.audit import checkpoint, verify
from store.audit import transitions_by_case
from store.db import cached_engine
from services.setup import ensure_user
from tests.district_world import EXTRA_USERS, build_world

KEY = b"chiave-di-prova"
PG_GUARDS = {"case_transition": ("case_transition_append_only", "case_transition_no_truncate"),
             "health_access_log": ("health_access_log_append_only", "health_access_log_no_truncate"),
             "case_file": ("case_file_state_guard", "case_file_audit_guard")}


@pytest.fixture
def world(service, engine):
    with engine.begin() as conn:
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    ids = build_world(service)
    log_health_read(engine, Principal("as.rossi", Role.SOCIAL_WORKER), ids["sad_ente01"], ["adl"])
    log_health_read(engine, Principal("as.rossi", Role.SOCIAL_WORKER), ids["sad_ente01"], ["iadl"])
    return ids


def _is_pg(engine) -> bool:
    return engine.dialect.name == "postgresql"


def _with_full_rights(engine, statements: list[str]) -> None:
    """What the tables' owner (or a superuser) can do: lift the guards, run `statements`, put the guards back."""
    with engine.begin() as conn:
        if _is_pg(engine):
            for table in PG_GUARDS:
                conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            saved = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in saved:
                conn.execute(sa.text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(sa.text(statement))
        if _is_pg(engine):
            for table, names in PG_GUARDS.items():
                for name in names:
                    conn.execute(sa.text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}"))
        else:
            for _, sql in saved:
                conn.execute(sa.text(sql))


def _problems(engine, **kw) -> list[str]:
    return [str(b) for b in verify(engine, **kw).breaks]


def test_an_untouched_history_verifies_and_every_row_carries_its_hash(world, engine):
    result = verify(engine)
    assert result.ok, result.breaks
    assert result.transitions > 20 and result.health_reads == 2
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM case_transition WHERE hash IS NULL")).scalar() == 0
        _, rows = next(transitions_by_case(conn))
    assert rows[0]["hash"] == row_hash(GENESIS, rows[0]) and rows[1]["hash"] == row_hash(rows[0]["hash"], rows[1])


def test_replace_and_truncate_and_replica_role_updates_are_refused_by_the_database(world, engine):
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, case_id, seq FROM case_transition ORDER BY id LIMIT 1")).one()
    if _is_pg(engine):
        for statement in ("TRUNCATE case_transition CASCADE", "TRUNCATE health_access_log"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text("UPDATE case_transition SET actor = 'intruso' WHERE id = :i"), {"i": row.id})
    else:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT OR REPLACE INTO case_transition (id, case_id, seq, transition, from_state, to_state, actor, "
                "actor_role, recorded_at, effective_at, effective_on, reason, data) SELECT id, case_id, seq, "
                "transition, from_state, to_state, 'intruso', actor_role, recorded_at, effective_at, effective_on, "
                "'riscritto', data FROM case_transition WHERE id = :i"), {"i": row.id})
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT OR REPLACE INTO health_access_log (id, case_id, username, role, read_at, fields, context) "
                "SELECT id, case_id, 'intruso', role, read_at, fields, context FROM health_access_log LIMIT 1"))
    assert verify(engine).ok


def test_a_state_change_outside_a_transition_is_refused(world, engine):
    with pytest.raises(sa.exc.DBAPIError, match="transition"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE case_file SET state = 'CLOSED', version = version + 1 WHERE id = :i"),
                     {"i": world["patto_crema"]})
    with pytest.raises(sa.exc.DBAPIError, match="transition"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE case_file SET state = 'CLOSED' WHERE id = :i"), {"i": world["patto_crema"]})
    assert verify(engine).ok


def test_with_full_rights_a_deleted_middle_row_is_named_by_verify(world, engine):
    case_id = world["patto_crema"]
    _with_full_rights(engine, [f"DELETE FROM case_transition WHERE case_id = {case_id} AND seq = 2"])
    found = _problems(engine)
    assert any(p.startswith(f"caso {case_id}, passo 3: numerazione interrotta") for p in found), found
    assert any(p.startswith(f"caso {case_id}, passo 3: impronta non corrispondente") for p in found), found
    assert any(p.startswith(f"caso {case_id}, caso: versione") for p in found), found


def test_with_full_rights_an_edited_payload_or_actor_is_named_by_verify(world, engine):
    case_id = world["sad_ente01"]
    _with_full_rights(engine, [f"UPDATE case_transition SET actor = 'intruso' WHERE case_id = {case_id} AND seq = 2"])
    assert f"caso {case_id}, passo 2: impronta non corrispondente" in " ".join(_problems(engine))


def test_with_full_rights_a_state_rewritten_on_the_case_is_named_by_verify(world, engine):
    case_id = world["patto_pandino"]
    _with_full_rights(engine, [f"UPDATE case_file SET state = 'CLOSED' WHERE id = {case_id}"])
    assert any(p.startswith(f"caso {case_id}, caso: stato CLOSED") for p in _problems(engine))


def test_with_full_rights_a_deleted_health_read_is_named_by_verify(world, engine):
    _with_full_rights(engine, ["DELETE FROM health_access_log WHERE id = (SELECT max(id) FROM health_access_log)"])
    assert any("registro accessi ai dati sanitari, testa della catena" in p for p in _problems(engine))


def test_a_history_rewritten_with_every_hash_recomputed_is_caught_by_the_checkpoint(world, engine, tmp_path):
    case_id = world["patto_crema"]
    written = checkpoint(engine, audit_dir=tmp_path, key=KEY, now=datetime(2026, 11, 20, 23, tzinfo=timezone.utc))
    assert written["catene"] > 5 and len(written["radice"]) == 64
    with engine.connect() as conn:
        rows = dict(transitions_by_case(conn))[case_id]
    rows[1]["actor"] = "intruso"  # the attacker rewrites step 2 and recomputes the chain after it
    previous, statements = GENESIS, []
    for row in rows:
        previous = row_hash(previous, row)
        statements.append(f"UPDATE case_transition SET actor = '{row['actor']}', hash = '{previous}' "
                          f"WHERE id = {row['id']}")
    statements.append(f"UPDATE case_file SET audit_hash = '{previous}' WHERE id = {case_id}")
    _with_full_rights(engine, statements)
    assert verify(engine).ok  # every hash agrees with the rewritten rows...
    found = _problems(engine, audit_dir=tmp_path)  # ...but not with the heads anchored before
    assert any(p.startswith(f"caso {case_id}, checkpoint checkpoint-20261120-230000.json.gz") for p in found), found


def test_the_cli_verifies_and_fails_naming_the_case(world, engine, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    monkeypatch.setenv("LEGAMI_AUDIT_DIR", str(tmp_path))
    get_settings.cache_clear()
    cached_engine.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli_app, ["audit", "checkpoint"]).exit_code == 0
        ok = runner.invoke(cli_app, ["audit", "verify"])
        assert ok.exit_code == 0 and "Registro integro" in ok.output
        case_id = world["patto_crema"]
        _with_full_rights(engine, [f"UPDATE case_transition SET reason = 'riscritto' WHERE case_id = {case_id}"])
        broken = runner.invoke(cli_app, ["audit", "verify"])
        assert broken.exit_code == 1 and f"ANOMALIA: caso {case_id}, passo 1" in broken.output
    finally:
        cached_engine(db_url).dispose()
        get_settings.cache_clear()
        cached_engine.cache_clear()
