"""Alembic: upgrade from empty, one step down and up again, and models equal to migrations."""
from __future__ import annotations

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


REMINDER_TABLES = {"reminder_log", "obligation_status"}


def test_upgrade_from_empty_then_one_step_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    assert CASE_TABLES | REMINDER_TABLES | {"comune", "provider", "app_user", "policy_version"} <= tables(url)
    downgrade(url, "-1")
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
