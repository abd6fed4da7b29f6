"""What the pages' cost cuts keep identical (bench/pages, issue 12 item 7): lists sent as one array, the scope
expression kept per reader, the obligations file parsed once per version, the directory read part by part."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from config.obligation_files import CONFIG_DIR, load_obligations
from domain.conditions import ComuneInUserComuni, Principal
from domain.workflow import Role
from services.directory import Directory
from store.access_sql import to_sql
from store.db import make_engine
from store.sql_in import among
from store.tables import Comune

comune_t = Comune.__table__
DAY = date(2026, 12, 7)


def test_among_finds_the_same_rows_as_in_and_its_negation_the_rest(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            every = sorted(conn.scalars(sa.select(comune_t.c.istat)))
            chosen = every[::3]
            assert chosen
            found = sorted(conn.scalars(sa.select(comune_t.c.istat).where(among(comune_t.c.istat, chosen))))
            rest = sorted(conn.scalars(sa.select(comune_t.c.istat).where(sa.not_(among(comune_t.c.istat, chosen)))))
            assert found == sorted(conn.scalars(sa.select(comune_t.c.istat).where(comune_t.c.istat.in_(chosen))))
            assert found == chosen and sorted(found + rest) == every
    finally:
        engine.dispose()


def test_postgresql_receives_a_list_as_one_parameter_whatever_its_length():
    def sql(values):
        return str(sa.select(comune_t.c.istat).where(among(comune_t.c.istat, values))
                   .compile(dialect=postgresql.psycopg.dialect()))

    assert sql(["019001"]) == sql([f"0190{n:02d}" for n in range(60)])
    assert "= ANY (%(param_1)s::VARCHAR(6)[])" in sql(["019001"])


def test_the_scope_kept_for_a_reader_is_never_another_readers():
    def comuni_bound(principal):
        compiled = sa.select(sa.literal(1)).where(to_sql(ComuneInUserComuni(), principal, today=DAY)).compile()
        return [v for v in compiled.params.values() if isinstance(v, list)]

    crema = Principal("a.rossi", Role.SOCIAL_WORKER, comuni=frozenset({"019035"}))
    moved = Principal("a.rossi", Role.SOCIAL_WORKER, comuni=frozenset({"019066", "019003"}))
    assert comuni_bound(crema) == [["019035"]]
    assert comuni_bound(moved) == [["019003", "019066"]]  # same user, new comuni: her new scope
    assert comuni_bound(crema) == [["019035"]]


def test_an_edited_obligations_file_is_read_again(tmp_path):
    path = tmp_path / "obligations.toml"
    text = (CONFIG_DIR / "obligations.toml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first = load_obligations(path)
    assert load_obligations(path) == first
    label = first[0].label
    path.write_text(text.replace(f'"{label}"', f'"{label} (modificato)"', 1), encoding="utf-8")
    assert load_obligations(path)[0].label == f"{label} (modificato)"


def test_a_lazy_directory_reads_what_an_eager_one_reads(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            eager, lazy = Directory(conn), Directory(conn, lazy=True)
            for part in ("users", "comune_area", "comune_name", "coordinator_email", "providers", "district",
                         "ambiti", "comune_ambito", "comune_ente", "enti_per_ambito"):
                assert getattr(lazy, part) == getattr(eager, part), part
            assert lazy.resolve("planning_office") == eager.resolve("planning_office")
    finally:
        engine.dispose()
