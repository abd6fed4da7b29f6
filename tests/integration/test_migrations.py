"""Alembic: upgrade from empty, one step down and up again, and models equal to migrations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import store.tables  # noqa: F401
from store.db import downgrade, make_engine, migrate

CASE_TABLES = {"case_file", "case_transition", "deadline", "outbox", "person"}


def tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def case_columns(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    names = {c["name"] for c in sa.inspect(engine).get_columns("case_file")}
    engine.dispose()
    return names


REMINDER_TABLES = {"reminder_log", "obligation_status"}
AUTH_TABLES = {"user_credential", "login_throttle", "user_identity", "health_access_log"}
SIUSS_TABLES = {"siuss_flow", "siuss_item"}


def test_upgrade_from_empty_then_one_step_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    assert CASE_TABLES | REMINDER_TABLES | AUTH_TABLES | {"comune", "provider", "app_user", "policy_version"} \
        <= tables(url)
    assert {"web_session", "audit_head", "person_discrepancy", "health_data", "diary_entry", "person_merge",
            "case_document", "deputyship", "case_import", "distretto", "ente_gestore"} <= tables(url)
    assert SIUSS_TABLES <= tables(url)
    assert {"job_partition", "ambito_tally_snapshot", "siuss_pending"} <= tables(url)
    assert "ix_reminder_log_recipient" in {i["name"] for i in sa.inspect(make_engine(url)).get_indexes("reminder_log")}
    assert "ambito_code" in {c["name"] for c in sa.inspect(make_engine(url)).get_columns("deadline")}
    downgrade(url, "-1")  # 0023_deadline_ambito: the deadline's Ambito column and its index
    assert "ambito_code" not in {c["name"] for c in sa.inspect(make_engine(url)).get_columns("deadline")}
    assert "ix_reminder_log_recipient" in {i["name"] for i in sa.inspect(make_engine(url)).get_indexes("reminder_log")}
    downgrade(url, "-1")  # 0022_region_reads: three indexes for one Ambito's reads in a region
    assert "ix_reminder_log_recipient" not in {i["name"] for i in
                                               sa.inspect(make_engine(url)).get_indexes("reminder_log")}
    downgrade(url, "-1")  # 0021_siuss_pending: the SIUSS obligation's kept count (derived: recomputed on demand)
    assert "siuss_pending" not in tables(url) and "job_partition" in tables(url)
    downgrade(url, "-1")  # 0020_job_partitions: the nightly jobs' claims and per-Ambito tallies go
    assert not ({"job_partition", "ambito_tally_snapshot"} & tables(url)) and "distretto" in tables(url)
    downgrade(url, "-1")  # 0019_user_ente: the users' managing body
    assert "ente_gestore" not in {c["name"] for c in sa.inspect(make_engine(url)).get_columns("app_user")}
    assert "ambito_code" in case_columns(url)
    downgrade(url, "-1")  # 0018_case_ambito: the case's Ambito column and its indexes
    assert "ambito_code" not in case_columns(url) and "distretto" in tables(url)
    downgrade(url, "-1")  # 0017_ambiti: the distretti and managing bodies go, the Ambito columns too
    assert not ({"distretto", "ente_gestore"} & tables(url)) and SIUSS_TABLES <= tables(url)
    downgrade(url, "-1")  # 0016_siuss: the SIUSS flows
    assert not (SIUSS_TABLES & tables(url)) and "case_import" in tables(url)
    downgrade(url, "-1")  # 0015_import: the record of imported rows
    assert "case_import" not in tables(url) and "case_document" in tables(url)
    downgrade(url, "-1")  # 0014: the documents' table goes (their files stay in LEGAMI_DOCUMENTS_DIR)
    assert "case_document" not in tables(url) and "person_merge" in tables(url)
    downgrade(url, "-1")  # 0013: the merge records and the discrepancies' resolution go
    assert "person_merge" not in tables(url) and "deputyship" in tables(url)
    downgrade(url, "-1")  # 0012_handover: the deputyships and case_transition.on_behalf_of go
    assert "deputyship" not in tables(url) and "diary_entry" in tables(url)
    assert "on_behalf_of" not in {c["name"] for c in sa.inspect(make_engine(url)).get_columns("case_transition")}
    downgrade(url, "-1")
    assert "diary_entry" not in tables(url) and "health_data" in tables(url)
    downgrade(url, "-1")  # 0010 moves data only: the sealed table stays
    assert "health_data" in tables(url)
    downgrade(url, "-1")
    assert "health_data" not in tables(url) and "person_discrepancy" in tables(url)
    downgrade(url, "-1")
    assert "person_discrepancy" not in tables(url) and "audit_head" in tables(url)
    downgrade(url, "-1")
    assert "audit_head" not in tables(url) and "web_session" in tables(url)
    downgrade(url, "-1")
    assert "web_session" not in tables(url) and AUTH_TABLES <= tables(url)
    downgrade(url, "-1")
    assert not (AUTH_TABLES & tables(url)) and "tally_snapshot" in tables(url)
    downgrade(url, "-1")
    assert "tally_snapshot" not in tables(url) and REMINDER_TABLES | CASE_TABLES <= tables(url)
    migrate(url)
    assert "tally_snapshot" in tables(url) and AUTH_TABLES | SIUSS_TABLES | {
        "web_session", "audit_head", "health_data", "diary_entry"} <= tables(url)
    downgrade(url, "0002_cases")
    assert not (REMINDER_TABLES & tables(url)) and CASE_TABLES <= tables(url)
    migrate(url)
    assert REMINDER_TABLES <= tables(url)
    downgrade(url, "0001_district")
    assert not (CASE_TABLES & tables(url)) and "comune" in tables(url)
    migrate(url)
    assert CASE_TABLES | REMINDER_TABLES <= tables(url)


def test_the_migrations_match_the_models_on_both_databases(db_url):
    engine = make_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path):
    """An empty database of its own (migrations go up and down in it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    from .conftest import _admin

    base = sa.engine.make_url(request.getfixturevalue("pg_url"))
    url = base.set(database=f"{base.database}_scratch").render_as_string(hide_password=False)
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}_scratch"'))
        conn.execute(sa.text(f'CREATE DATABASE "{base.database}_scratch"'))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}_scratch" WITH (FORCE)'))
    admin.dispose()


def test_upgrading_to_the_local_day_column_backfills_it_from_the_recorded_instants(scratch_url):
    from datetime import date

    from services.cases import CaseService
    from services.setup import ensure_user, init_database
    from store.tables import transition_t

    from .conftest import NOW
    from .patto_steps import drive_to_active, open_patto

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "A", "a@example.org", "social_worker", "Crema")
        ensure_user(conn, "coord.crema", "C", "c@example.org", "subarea_coordinator", "Crema")
    service = CaseService(engine, clock=lambda: NOW)
    drive_to_active(service, open_patto(service, service.actor("as.rossi")))
    query = sa.select(transition_t.c.seq, transition_t.c.effective_on).order_by(transition_t.c.seq)
    with engine.connect() as conn:
        before = conn.execute(query).all()
    assert before[0].effective_on == date(2026, 1, 12)  # stored 2026-01-11T23:00Z, the Rome day is the 12th
    downgrade(scratch_url, "0003_reminders")
    migrate(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(query).all() == before
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # the triggers survived the rebuild
        with engine.begin() as conn:
            conn.execute(transition_t.update().values(actor="x"))
    engine.dispose()


def test_the_auth_revision_goes_down_and_up_and_keeps_the_health_log_append_only(scratch_url):
    from datetime import datetime, timezone

    from services.cases import CaseService
    from services.setup import ensure_user, init_database
    from store.auth_tables import health_access_log_t

    from .conftest import NOW
    from .patto_steps import open_patto

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    downgrade(scratch_url, "0004_tallies")
    assert not (AUTH_TABLES & tables(scratch_url))
    migrate(scratch_url)
    assert AUTH_TABLES <= tables(scratch_url)
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "A", "a@example.org", "social_worker", "Crema")
    service = CaseService(engine, clock=lambda: NOW)
    case_id = open_patto(service, service.actor("as.rossi"))
    with engine.begin() as conn:
        conn.execute(health_access_log_t.insert(), {"case_id": case_id, "username": "as.rossi", "role": "social_worker",
                                                    "read_at": datetime.now(timezone.utc), "fields": ["adl"],
                                                    "context": "test"})
    for statement in (health_access_log_t.update().values(username="x"), health_access_log_t.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(statement)
    engine.dispose()


def test_upgrading_to_the_case_ambito_places_each_case_in_its_comunes_ambito_else_in_its_openers(
        scratch_url):
    from datetime import date

    from services.cases import CaseService
    from services.setup import ensure_user, init_database, load_ambito
    from store.tables import case_t

    from .conftest import NOW
    from .patto_steps import open_patto, segnalazione

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "A", "a@example.org", "social_worker", "Crema")
        ensure_user(conn, "udp.neri", "U", "u@example.org", "planning_office", None)
        ensure_user(conn, "udp.lodi", "L", "l@example.org", "planning_office", None)
        conn.execute(sa.text("UPDATE app_user SET ambito_code = 'lodi' WHERE username = 'udp.lodi'"))
    service = CaseService(engine, clock=lambda: NOW)
    crema = open_patto(service, service.actor("as.rossi"))
    lodi = service.open_case(case_type="patto", actor=service.actor("as.rossi"), comune_istat="098031",
                             effective_at=date(2026, 1, 12), data=segnalazione(surname="Bassi", name="Ugo"))
    call = service.open_case(case_type="fna_bando", actor=service.actor("udp.neri"), effective_at=date(2026, 5, 6),
                             data={"titolo": "Bando FNA", "anno_fna": 2025, "dgr": "DGR 1/2026"})
    lodi_call = service.open_case(case_type="fna_bando", actor=service.actor("udp.lodi"),
                                  effective_at=date(2026, 5, 6),
                                  data={"titolo": "Bando FNA Lodi", "anno_fna": 2025, "dgr": "DGR 2/2026"})
    query = sa.select(case_t.c.id, case_t.c.ambito_code).order_by(case_t.c.id)
    with engine.connect() as conn:
        opened = dict(conn.execute(query).all())
    assert opened == {crema: "cremasco", lodi: "lodi", call: "cremasco", lodi_call: "lodi"}
    downgrade(scratch_url, "0017_ambiti")
    migrate(scratch_url)
    with engine.connect() as conn:
        assert dict(conn.execute(query).all()) == opened
    engine.dispose()


def test_upgrading_to_the_deadline_ambito_gives_each_deadline_its_case_s_ambito(scratch_url):
    from datetime import date

    from services.cases import CaseService
    from services.setup import ensure_user, init_database, load_ambito
    from store.tables import case_t, deadline_t

    from .conftest import NOW
    from .patto_steps import open_patto, segnalazione

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "A", "a@example.org", "social_worker", "Crema")
    service = CaseService(engine, clock=lambda: NOW)
    crema = open_patto(service, service.actor("as.rossi"))
    lodi = service.open_case(case_type="patto", actor=service.actor("as.rossi"), comune_istat="098031",
                             effective_at=date(2026, 1, 12), data=segnalazione(surname="Bassi", name="Ugo"))
    query = (sa.select(deadline_t.c.id, deadline_t.c.case_id, deadline_t.c.ambito_code, case_t.c.ambito_code)
             .join(case_t, case_t.c.id == deadline_t.c.case_id).order_by(deadline_t.c.id))
    with engine.connect() as conn:
        written = conn.execute(query).all()
    assert {r[1] for r in written} == {crema, lodi} and all(r[2] == r[3] for r in written)
    downgrade(scratch_url, "0022_region_reads")
    migrate(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(query).all() == written
    engine.dispose()
