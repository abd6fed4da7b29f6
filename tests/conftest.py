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


def _tables_to_empty() -> str:
    from sqlmodel import SQLModel

    import store.auth_tables  # noqa: F401  (registers the tables)
    import store.tables  # noqa: F401

    return ", ".join(sorted(set(SQLModel.metadata.tables) - REFERENCE_TABLES))


TABLES = _tables_to_empty()
AUDIT_TRUNCATE_GUARDS = (("case_transition", "case_transition_no_truncate"),
                         ("health_access_log", "health_access_log_no_truncate"),
                         ("diary_entry", "diary_entry_no_truncate"))


def empty_all_tables(conn) -> None:
    """TRUNCATE every table but the reference data (PostgreSQL). The audit tables refuse TRUNCATE (migration
    0007): the tables' owner lifts that for the fixture, inside the same transaction."""
    for table, trigger in AUDIT_TRUNCATE_GUARDS:
        conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    conn.execute(sa.text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    for table, trigger in AUDIT_TRUNCATE_GUARDS:
        conn.execute(sa.text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))
    # the reference data stays, but only the default Ambito's: an Ambito a test loaded beside it (Lodi) goes
    for table in ("comune", "sub_ambito", "provider"):
        conn.execute(sa.text(f"DELETE FROM {table} WHERE ambito_code IS NOT NULL AND ambito_code NOT IN "
                             "(SELECT code FROM district WHERE is_default)"))
    conn.execute(sa.text("DELETE FROM district WHERE NOT is_default"))


def _admin(url: str):
    target = sa.engine.make_url(normalise_url(url))
    return make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                       isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


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
        message = f"PostgreSQL non raggiungibile a {PG_URL}: {exc.__class__.__name__}: {exc}"
        if REQUIRE_PG:
            pytest.fail(message)
        pytest.skip(message + " (impostare LEGAMI_TEST_POSTGRES_URL)")
    init_database(url, make_engine(url, poolclass=sa.pool.NullPool))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
    with engine.begin() as conn:
        empty_all_tables(conn)
    # put back what init_database loads (policies, system user)
    init_database(url, engine)
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
