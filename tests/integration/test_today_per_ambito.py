"""The planning office's Oggi in an instance of several Ambiti: the statutory deadlines passed outside what it
reads are counted for its own Ambito only (issue 15 item 4). SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from services.access import principal_for
from services.today import statutory_breaches
from store.tables import deadline_t

from .patto_steps import segnalazione
from .test_tallies_per_ambito import AS_OF, LODI, cremasco_year_and_lodi  # noqa: F401 (the fixture)


def test_the_statutory_breaches_counted_in_aggregate_are_the_planning_office_s_ambito_s_only(
        cremasco_year_and_lodi, service):  # noqa: F811
    engine = cremasco_year_and_lodi
    udp = principal_for(engine, "udp.neri")
    before = statutory_breaches(engine, udp, today=AS_OF)
    lodi_case = service.open_case(case_type="patto", actor=service.actor("as.lodi"), comune_istat=LODI,
                                  effective_at=date(2026, 3, 2), data=segnalazione(surname="Galli", name="Luca"))
    with engine.begin() as conn:
        conn.execute(sa.insert(deadline_t).values(
            case_id=lodi_case, kind="termine_lodi", label="termine di legge", due=date(2026, 4, 1), basis="legge",
            source="statutory", status="open", started_seq=1, suspended_days=0, ambito_code="lodi"))

    assert statutory_breaches(engine, udp, today=AS_OF) == before
    lodi = statutory_breaches(engine, principal_for(engine, "udp.lodi"), today=AS_OF)
    assert sum(n for _, n in lodi[1]) + len(lodi[0]) >= 1
