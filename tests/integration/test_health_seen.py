"""The health read log of a case read names what redaction kept: the paths redaction collects as it walks are
those a second walk of its answer finds (services/access.read_case logs the first, it logged the second)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from domain.workflow import Role
from services.access import health_fields, principal_for, redact
from services.demo import generate_demo
from services.queries import case_detail
from store.db import make_engine
from store.tables import AppUser, case_t


def test_the_health_paths_redaction_keeps_are_those_its_answer_holds_for_every_case_and_role(db_url):
    engine = make_engine(db_url)
    today = date(2026, 11, 20)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=today)
    with engine.connect() as conn:
        users = {role: name for name, role in conn.execute(sa.select(AppUser.username, AppUser.role))}
        ids = list(conn.execute(sa.select(case_t.c.id).order_by(case_t.c.id)).scalars())
    readers = [principal_for(engine, users[r.value]) for r in
               (Role.PLANNING_OFFICE, Role.HEALTH_ASSESSOR, Role.SOCIAL_WORKER, Role.SUBAREA_COORDINATOR)
               if r.value in users]
    some_health = 0
    with engine.connect() as conn:
        for case_id in ids:
            for principal in readers:
                detail = case_detail(conn, case_id, role=principal.role, today=today, health=True)
                seen: set[str] = set()
                out = redact(detail, principal, health_seen=seen, fresh=True)
                assert sorted(seen) == health_fields(out), (case_id, principal.role)
                some_health += bool(seen)
    assert some_health  # the demo's readers do see health data somewhere
    engine.dispose()
