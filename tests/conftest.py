"""Database fixtures shared by every test folder (integration, web, browser): the same tests run on SQLite
and on a real PostgreSQL.

PostgreSQL comes from LEGAMI_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database legami_test); each
test session works in its own database legami_test_<pid>, created and dropped by the session fixture (defined
once, here: two definitions would be two session fixtures on the same database). With LEGAMI_REQUIRE_POSTGRES=1
(set by .ci/run) an unreachable server fails the run; otherwise the PostgreSQL half is skipped with the reason.
"""
from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from domain.italian import ROME  # noqa: F401  (tests/integration/conftest.py re-exports it)
from services.setup import init_database
from store.db import make_engine, normalise_url

@pytest.fixture(scope="session", autouse=True)
def _documents_of_the_session(tmp_path_factory):
    """The session keeps its documents (store/documents.py, content-addressed: sharing is safe) in a folder of its
    own, and the documents a transition requires (DOMAIN.md §14, on by default) are checked only where a test asks
    for it (`documents_required`): the tests written before documents existed activate patti without uploading
    the signed patto."""
    from config.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("LEGAMI_DOCUMENTS_DIR", "LEGAMI_DOCUMENTS_REQUIRED")}
    os.environ["LEGAMI_DOCUMENTS_DIR"] = str(tmp_path_factory.mktemp("documenti"))
    os.environ["LEGAMI_DOCUMENTS_REQUIRED"] = "false"
    get_settings.cache_clear()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture
def setting(monkeypatch):
    """setting("LEGAMI_X", "value"): a setting changed for one test, the cached settings read again (and again
    after the test, once the environment is back)."""
    from config.settings import get_settings

    def change(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield change
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def documents_required(monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("LEGAMI_DOCUMENTS_REQUIRED", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


PG_URL = os.environ.get("LEGAMI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/legami_test")
REQUIRE_PG = os.environ.get("LEGAMI_REQUIRE_POSTGRES") == "1"
# Emptied before each PostgreSQL test: every table but the district's reference data (loaded once), so that no
# row written by one test (a tally snapshot, say) is read by another.
REFERENCE_TABLES = {"district", "sub_ambito", "comune", "provider"}


def _tables_to_empty() -> list[str]:
    """Every table but the reference data, children before parents (a DELETE never meets a foreign key)."""
    from sqlmodel import SQLModel

    import store.auth_tables  # noqa: F401  (registers the tables)
    import store.tables  # noqa: F401

    return [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]


TABLES = _tables_to_empty()
# The audit tables refuse DELETE (migrations 0002, 0007, 0011): the tables' owner lifts that for the fixture,
# inside the same transaction.
AUDIT_DELETE_GUARDS = {"case_transition": "case_transition_append_only",
                       "health_access_log": "health_access_log_append_only",
                       "diary_entry": "diary_entry_append_only"}
_FILLED = sa.text(" UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in TABLES))
# The sequences of those tables that have given a value, back to their start (what TRUNCATE ... RESTART
# IDENTITY did): nextval gives the first id again.
_RESTART_SEQUENCES = sa.text(
    "SELECT setval(s.oid, ps.start_value, false) FROM pg_class s "
    "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
    "JOIN pg_class t ON t.oid = d.refobjid "
    "JOIN pg_sequences ps ON ps.schemaname = current_schema() AND ps.sequencename = s.relname "
    "WHERE s.relkind = 'S' AND t.relname = ANY(:tables) AND ps.last_value IS NOT NULL")


def empty_all_tables(conn, keep: tuple[str, ...] = ()) -> None:
    """Empty every table but the reference data (PostgreSQL), as TRUNCATE ... RESTART IDENTITY CASCADE did,
    but only the tables a test filled, and with DELETE: a test leaves a few rows in a few tables, and TRUNCATE
    costs a new file per table (27 tables: ~1.5 s a test on the CI machine, against ~0.1 s)."""
    filled = set(conn.execute(_FILLED).scalars()) - set(keep)
    guarded = {t: g for t, g in AUDIT_DELETE_GUARDS.items() if t in filled}
    for table, trigger in guarded.items():
        conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    for table in TABLES:
        if table in filled:
            conn.execute(sa.text(f"DELETE FROM {table}"))
    for table, trigger in guarded.items():
        conn.execute(sa.text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))
    conn.execute(_RESTART_SEQUENCES, {"tables": [t for t in TABLES if t not in keep]})
    # the reference data stays, but only the default Ambito's: an Ambito a test loaded beside it (Lodi) goes
    for table in ("comune", "sub_ambito", "provider"):
        conn.execute(sa.text(f"DELETE FROM {table} WHERE ambito_code IS NOT NULL AND ambito_code NOT IN "
                             "(SELECT code FROM district WHERE is_default)"))
    conn.execute(sa.text("DELETE FROM district WHERE NOT is_default"))


def _admin(url: str):
    target = sa.engine.make_url(normalise_url(url))
    return make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                       isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def fresh_database_url(request, folder, sqlite_template: str) -> str:
    """A database for a test's `request.param` ("sqlite" or "postgresql") holding only the initialised schema and
    the district: a copy of the SQLite template in `folder`, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        path = folder / "legami.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        empty_all_tables(conn)
    init_database(url, engine)
    engine.dispose()
    return url


def postgres_unreachable(message: str):
    """No PostgreSQL where a test needs one: CI (LEGAMI_REQUIRE_POSTGRES=1) fails the run; elsewhere the test skips,
    saying how to point it at a server."""
    if REQUIRE_PG:
        pytest.fail(message)
    pytest.skip(message + " (impostare LEGAMI_TEST_POSTGRES_URL)")


def reachable_admin(url: str):
    """The admin engine of `url`'s server, once a connection to it has succeeded (else postgres_unreachable)."""
    admin = _admin(url)
    try:
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        postgres_unreachable(f"PostgreSQL non raggiungibile: {exc}")
    return admin


def _session_database_url(base: str) -> str:
    """One database per test session (legami_test_<pid>), so concurrent runs never share tables."""
    target = sa.engine.make_url(normalise_url(base))
    return target.set(database=f"{target.database}_{os.getpid()}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url():
    url = _session_database_url(PG_URL)
    name = sa.engine.make_url(url).database
    try:
        admin = _admin(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        postgres_unreachable(f"PostgreSQL non raggiungibile a {PG_URL}: {exc.__class__.__name__}: {exc}")
    init_database(url, make_engine(url, poolclass=sa.pool.NullPool))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# What init_database writes of the default Ambito (store.reference.save_district: ~70 upserts, one statement
# each); most tests never change it, so the reset below checks it with one checksum instead of writing it again.
DISTRICT_TABLES = ("district", "sub_ambito", "comune", "provider", "distretto", "ente_gestore")
_DISTRICT_CHECKSUM = sa.text("SELECT " + ", ".join(
    f"(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {t} r)" for t in DISTRICT_TABLES))
_LOADED_DISTRICT: dict[str, tuple] = {}  # database url -> the checksum right after init_database


def reset_database(url: str, engine) -> None:
    """The database as init_database leaves it (district, policies, system user), after any test: every table
    emptied (empty_all_tables) and init_database run again, except for two of its steps when they would change
    nothing: alembic's upgrade (the session's database is at head since `pg_url`, and no test migrates it:
    tests/integration/test_migrations.py works in a scratch database) and the default Ambito's rows when their
    checksum says they are exactly those it wrote (then they are kept, with their ids)."""
    import services.setup

    with engine.begin() as conn:
        unchanged = _LOADED_DISTRICT.get(url) == tuple(conn.execute(_DISTRICT_CHECKSUM).one())
        empty_all_tables(conn, keep=("distretto", "ente_gestore") if unchanged else ())
    skipped = {"migrate": lambda url: None} | ({"load_district_rows": lambda *a, **k: None} if unchanged else {})
    saved = {name: getattr(services.setup, name) for name in skipped}
    try:
        for name, stub in skipped.items():
            setattr(services.setup, name, stub)
        init_database(url, engine)
    finally:
        for name, original in saved.items():
            setattr(services.setup, name, original)
    if not unchanged:
        with engine.connect() as conn:
            _LOADED_DISTRICT[url] = tuple(conn.execute(_DISTRICT_CHECKSUM).one())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "legami.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_database(url, engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template):
    """A freshly initialised database (district + policies loaded) on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "legami.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    # empty, and put back what init_database loads (district, policies, system user)
    reset_database(url, engine)
    engine.dispose()
    yield url


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)  # still argon2id, cheap for tests


@pytest.fixture
def fast_hashes():
    """Cheap argon2id hashes for the test's duration (modules opt in with autouse wrappers or by name)."""
    from services.auth import use_password_hasher

    previous = use_password_hasher(FAST_HASHER)
    yield
    use_password_hasher(previous)
