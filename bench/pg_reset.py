"""The PostgreSQL reset between tests (tests/conftest.py `db_url`): the one before h-ci (TRUNCATE of every table,
then init_database) against `reset_database`, alternated in one process on the same database after the same
filling (the web tests' users and the district world), so that the machine's load weighs on both alike.

    python -m bench.pg_reset [--rounds 8] [--url postgresql://postgres@127.0.0.1:5432/legami_bench_reset]

Out of CI (a benchmark): the correctness of the reset is the whole suite's, run on PostgreSQL.
"""
from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa

from bench.common import loadavg
from services.auth import create_user, use_password_hasher
from services.cases import CaseService
from services.setup import init_database
from store.db import make_engine
from tests.conftest import FAST_HASHER, TABLES, _admin, reset_database
from tests.district_world import build_world
from tests.web.conftest import ALL_USERS, NOW, PASSWORD

TRUNCATE_GUARDS = (("case_transition", "case_transition_no_truncate"),
                   ("health_access_log", "health_access_log_no_truncate"),
                   ("diary_entry", "diary_entry_no_truncate"))


def old_reset(url: str, engine) -> None:
    """tests/conftest.py before h-ci: TRUNCATE of every table but the reference data, init_database again."""
    with engine.begin() as conn:
        for table, trigger in TRUNCATE_GUARDS:
            conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        conn.execute(sa.text(f"TRUNCATE {', '.join(sorted(TABLES))} RESTART IDENTITY CASCADE"))
        for table, trigger in TRUNCATE_GUARDS:
            conn.execute(sa.text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))
        for table in ("comune", "sub_ambito", "provider"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE ambito_code IS NOT NULL AND ambito_code NOT IN "
                                 "(SELECT code FROM district WHERE is_default)"))
        conn.execute(sa.text("DELETE FROM district WHERE NOT is_default"))
    init_database(url, engine)


def fill(engine) -> None:
    """What a web test leaves: every user of tests/web/conftest.py and the district world."""
    for username, role, area, provider in ALL_USERS:
        create_user(engine, username, username, f"{username}@example.org", role, sub_ambito=area,
                    provider_codice=provider, password=PASSWORD, is_admin=username == "udp.admin", now=NOW)
    build_world(CaseService(engine, clock=lambda: NOW))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/legami_bench_reset")
    args = parser.parse_args()
    name = sa.engine.make_url(args.url).database
    admin = _admin(args.url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(args.url, poolclass=sa.pool.NullPool)
    use_password_hasher(FAST_HASHER)
    init_database(args.url, engine)
    reset_database(args.url, engine)
    times: dict[str, list[float]] = {"old": [], "new": []}
    print(f"load before: {loadavg()}")
    for _ in range(args.rounds):
        for label, reset in (("old", old_reset), ("new", reset_database)):
            fill(engine)
            start = time.perf_counter()
            reset(args.url, engine)
            times[label].append(time.perf_counter() - start)
    print(f"load after: {loadavg()}")
    old, new = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"old reset (TRUNCATE + init_database): median {old:.3f} s over {args.rounds}")
    print(f"new reset (reset_database):            median {new:.3f} s over {args.rounds}")
    print(f"ratio new/old: {new / old:.2f}")
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
