"""The database half of `legami backup` / `legami restore` (services/backup.py holds the archive): a consistent
copy of the database into one file, and that file loaded back, on each backend.

- SQLite: the online backup API (`sqlite3.Connection.backup`, all pages in one step: a consistent snapshot while
  the app writes), both ways;
- PostgreSQL: `pg_dump -Fc` (one snapshot); loaded by `pg_restore` into SQL that `psql` runs in ONE transaction
  after dropping the `public` schema, so a failed restore leaves the target as it was.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domain.errors import DomainError
from store.db import make_engine, normalise_url

BACKENDS = ("sqlite", "postgresql")


class BackupError(DomainError):
    """A backup or a restore refused or failed; the message is Italian and says what to do."""


def copy_database(database_url: str, dest: Path) -> str:
    """Write a consistent copy of the database to `dest`; return its Alembic revision."""
    if backend_of(database_url) == "sqlite":
        return copy_sqlite(database_url, dest)
    return copy_postgresql(database_url, dest)


def load_database(source: Path, database_url: str) -> None:
    """Replace the database's content with the copy in `source` (a missing database is created)."""
    if backend_of(database_url) == "sqlite":
        load_sqlite(source, database_url)
    else:
        load_postgresql(source, database_url)


# ------------------------------------------------------------------------------------------------ SQLite


def _sqlite_path(database_url: str) -> Path:
    path = sa.engine.make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("un database SQLite in memoria non ha copie di sicurezza: serve un file")
    return Path(path)


def copy_sqlite(database_url: str, dest: Path) -> str:
    path = _sqlite_path(database_url)
    if not path.is_file():
        raise BackupError(f"database SQLite non trovato: {path}")
    src = sqlite3.connect(path, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # all pages in one step: a consistent snapshot, whatever the app writes meanwhile
        row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"copia del database SQLite non riuscita: {exc}") from None
    finally:
        dst.close()
        src.close()
    if row is None:
        raise BackupError("il database non ha una revisione Alembic: eseguire prima `legami init`")
    return row[0]


def load_sqlite(source: Path, database_url: str) -> None:
    path = _sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(path, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the target (in one step, as a single write)
    except sqlite3.Error as exc:
        raise BackupError(f"ripristino del database SQLite non riuscito: {exc}") from None
    finally:
        dst.close()
        src.close()


# ------------------------------------------------------------------------------------------------ PostgreSQL


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the client tools, with the password in the environment (never on the command line)."""
    url = sa.engine.make_url(normalise_url(database_url))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} non trovato: installare il pacchetto postgresql-client (versione principale "
                          "uguale o successiva a quella del server)")
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["errore sconosciuto"])[-1]
        raise BackupError(f"{what} non riuscito: {detail}")


def copy_postgresql(database_url: str, dest: Path) -> str:
    revision = current_revision(database_url)
    if revision is None:
        raise BackupError("il database non ha una revisione Alembic: eseguire prima `legami init`")
    uri, env = _libpq(database_url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dest),
          "--dbname", uri], env, "pg_dump")
    return revision


def load_postgresql(source: Path, database_url: str) -> None:
    _create_pg_database_if_missing(database_url)
    uri, env = _libpq(database_url)
    script = source.with_suffix(".sql")
    _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", str(script), str(source)], env,
         "pg_restore")
    # One transaction: the old schema goes only if the copy goes in whole.
    _run([_tool("psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
          "--command", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
                       "GRANT USAGE ON SCHEMA public TO PUBLIC;",
          "--file", str(script), "--dbname", uri], env, "ripristino PostgreSQL (psql)")
    script.unlink(missing_ok=True)


def _create_pg_database_if_missing(database_url: str) -> None:
    url = sa.engine.make_url(normalise_url(database_url))
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    except sa.exc.DBAPIError as exc:
        raise BackupError(f"database {url.database} non creato: {exc.orig}; crearlo vuoto e ripetere") from None
    finally:
        admin.dispose()


# ------------------------------------------------------------------------------------------------ both


def backend_of(database_url: str) -> str:
    name = sa.engine.make_url(normalise_url(database_url)).get_backend_name()
    if name not in BACKENDS:
        raise BackupError(f"database non supportato per le copie: {name}")
    return name


def database_not_empty(database_url: str) -> str | None:
    """Why the database is not an empty target (it has tables), or None."""
    if backend_of(database_url) == "sqlite":
        path = _sqlite_path(database_url)
        if not path.is_file() or path.stat().st_size == 0:
            return None
        with sqlite3.connect(path, timeout=30) as conn:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        conn.close()
    else:
        try:
            tables = _scalar(database_url, "SELECT count(*) FROM information_schema.tables "
                                           "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        except sa.exc.OperationalError:
            return None  # the database does not exist yet: restore creates it
    return f"il database di destinazione non è vuoto ({tables} tabelle)" if tables else None


def current_revision(database_url: str) -> str | None:
    try:
        return _scalar(database_url, "SELECT version_num FROM alembic_version")
    except sa.exc.DBAPIError:
        return None


def _scalar(database_url: str, sql: str) -> Any:
    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()
