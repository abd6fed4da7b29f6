"""Engine factory and migrations. SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

STORE_DIR = Path(__file__).parent


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3 (the only PostgreSQL driver installed)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if "poolclass" not in kwargs and _queue_pooled(url):
        # the connection returned last is the next one handed out: one thread at a time then keeps one
        # warm connection (SQLite's page cache, psycopg's prepared statements), instead of alternating
        # between every connection the pool ever opened, each with a cache made stale by the other's commits
        kwargs.setdefault("pool_use_lifo", True)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 30)
    # no pre-ping (a round trip per checkout: a third of a transition's time, bench/RESULTS.md): a dead pooled
    # connection (a database restart, a killed backend) is invalidated by its first failed statement, and the
    # read that met it runs again (web/db_retry.py; a step's unit of work: services/cases.py)
    kwargs.setdefault("pool_recycle", 1800)
    return sa.create_engine(url, **kwargs)


def _queue_pooled(url: str) -> bool:
    """Whether the dialect's default pool for this URL is a QueuePool (not SQLite's in-memory pools)."""
    u = sa.engine.make_url(url)
    return issubclass(u.get_dialect().get_pool_class(u), sa.pool.QueuePool)


def sqlite_synchronous() -> str:
    """FULL unless LEGAMI_SQLITE_SYNCHRONOUS says otherwise: in WAL mode NORMAL may lose the last commits on a
    power cut or an OS crash (SQLite's documentation), FULL syncs the WAL at every commit."""
    from config.settings import get_settings

    return get_settings().sqlite_synchronous


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
    cur.execute("PRAGMA recursive_triggers=ON")  # INSERT OR REPLACE then fires the audit tables' DELETE guards
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config(str(STORE_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(STORE_DIR / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@lru_cache
def cached_engine(url: str) -> Engine:
    return make_engine(url)
