"""bench/region's generator on a tiny region (3 Ambiti, 300 cases, 6,000 audit rows) and the night over it
with two claiming workers (PostgreSQL): every Ambito claimed once, the sweep's reminders logged once."""
from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, reachable_admin

pytestmark = pytest.mark.postgres
NAME = "legami_bench_region_test"


@pytest.fixture(scope="module")
def region_url():
    base = sa.engine.make_url(PG_URL.replace("postgresql+psycopg://", "postgresql://"))
    url = base.set(database=NAME).render_as_string(hide_password=False)
    admin = reachable_admin(url)
    from bench.region.build import build

    facts = build(url, ambiti=3, cases=300, audit=6000, workers=2, reuse=False, progress=lambda _: None)
    yield url, facts
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    admin.dispose()


def test_the_generator_spreads_the_cases_over_every_ambito_with_their_history_and_one_open_deadline(region_url):
    url, facts = region_url
    assert facts["ambiti"] == 3 and facts["cases"] == 300
    assert sum(facts["cases_per_ambito"].values()) == 300 and len(facts["cases_per_ambito"]) == 3
    with psycopg.connect(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM case_transition") == facts["audit_rows"]
        assert 5000 <= facts["audit_rows"] <= 7000  # about the number asked
        # each case's history starts with its referral and runs seq 1..k without gaps
        assert one("SELECT count(*) FROM (SELECT case_id FROM case_transition GROUP BY case_id "
                   "HAVING max(seq) <> count(*) OR min(seq) <> 1) s") == 0
        assert one("SELECT count(DISTINCT transition) FROM case_transition WHERE seq = 1") == 1
        assert one("SELECT count(*) FROM deadline WHERE status = 'open'") == 300
        # every owner is a social worker of the case's own sub-ambito and Ambito
        assert one("SELECT count(*) FROM case_file c JOIN comune cm ON cm.istat = c.comune_istat LEFT JOIN "
                   "app_user u ON u.username = c.owner AND u.sub_ambito = cm.sub_ambito AND "
                   "u.ambito_code = cm.ambito_code WHERE u.id IS NULL") == 0
        # the indexes dropped for the load are back
        assert one("SELECT count(*) FROM pg_indexes WHERE tablename = 'case_transition'") >= 5


def test_two_workers_claim_every_ambito_and_its_job_partitions_once_and_the_sweep_logs_each_reminder_once(region_url):
    from bench.region.build import AS_OF
    from bench.region.night import night

    url, _ = region_url
    out = night(url, 2, AS_OF.isoformat())
    assert out["unclaimed"] == 0
    assert sum(w["ambiti"] for w in out["per_worker"]) == 3
    # each Ambito's sweep, obligations and tallies claimed in job_partition (flows.partitions), done at the first go
    assert sorted((p["job"], p["status"], p["n"], p["max_attempts"]) for p in out["job_partitions"]) == [
        ("conteggi", "done", 3, 1), ("obblighi", "done", 3, 1), ("scadenze", "done", 3, 1)]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM (SELECT key FROM reminder_log GROUP BY key HAVING count(*) > 1) "
                            "s").fetchone()[0] == 0
        assert conn.execute("SELECT count(DISTINCT claimed_by) FROM bench_region_claim").fetchone()[0] >= 1


@pytest.fixture(scope="module")
def big_region_url():
    """66,000 open patti with their opening steps: more benefit cases than a driver binds parameters (65,535)."""
    base = sa.engine.make_url(PG_URL.replace("postgresql+psycopg://", "postgresql://"))
    url = base.set(database=NAME + "_big").render_as_string(hide_password=False)
    admin = reachable_admin(url)
    from bench.region.build import build

    build(url, ambiti=2, cases=66_000, audit=264_000, workers=2, reuse=False, progress=lambda _: None)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{NAME}_big" WITH (FORCE)'))
    admin.dispose()


def test_the_siuss_benefits_pending_are_read_for_more_cases_than_a_query_binds_parameters(big_region_url):
    """Found by the region: the SIUSS obligation's evidence bound every benefit case id in one IN list."""
    from datetime import date

    from domain.registry import all_case_types
    from store.db import make_engine
    from store.siuss import benefit_steps
    from store.uow import reading

    mapping = next(ct.siuss for ct in all_case_types() if ct.case_type == "patto")
    engine = make_engine(big_region_url)
    with reading(engine) as conn:
        found = benefit_steps(conn, "patto", mapping.transitions(), date(2026, 12, 1), mapping.hours_register)
    engine.dispose()
    assert len(found) == 66_000 and all(steps for _, steps in found)
