"""A deadline carries its case's Ambito (0023_deadline_ambito, issue 15 item 4): written by every step that opens
deadlines, moved with a case transferred into another Ambito's comune, and the Oggi lists read by it are the rows
the scope's tenancy gate on the case gives. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from domain.italian import ROME
from services import handover
from services.access import answers_for_filter, principal_for, scoped_filter
from services.setup import load_ambito
from services.today import today_for
from store import today as today_reads
from store import users as user_store
from store.tables import case_t, deadline_t

from .patto_steps import ASSEGNA, drive_to_active, open_patto, segnalazione

LODI = "098031"
TODAY = date(2026, 11, 20)


@pytest.fixture
def two_ambiti(engine):
    """The Ambito di Lodi loaded beside Cremasco, with a social worker, a coordinator and a planning office."""
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        for username, role, area in (("as.lodi", "social_worker", "Lodi"),
                                     ("coord.lodi", "subarea_coordinator", "Lodi"),
                                     ("udp.lodi", "planning_office", None)):
            user_store.upsert_user(conn, username, username, f"{username}@example.org", role, area, None,
                                   ambito_code="lodi")
    return engine


def deadline_ambiti(engine, case_id: int) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(deadline_t.c.ambito_code).where(deadline_t.c.case_id == case_id))
                   .scalars())


def case_ambito(engine, case_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(case_t.c.ambito_code).where(case_t.c.id == case_id)).scalar_one()


def lodi_patto(service, surname: str = "Galli") -> int:
    worker, coord = service.actor("as.lodi"), service.actor("coord.lodi")
    case = service.open_case(case_type="patto", actor=worker, comune_istat=LODI, effective_at=date(2026, 1, 12),
                             data=segnalazione(surname=surname, name="Luca"))
    service.advance(case_id=case, transition="assegna", actor=coord, effective_at=date(2026, 1, 14),
                    data={**ASSEGNA, "assegnatario": "as.lodi"})
    return case


def test_the_deadlines_a_step_opens_carry_the_ambito_of_their_case(two_ambiti, service):
    crema = open_patto(service, service.actor("as.rossi"))
    drive_to_active(service, crema)
    lodi = lodi_patto(service)

    assert deadline_ambiti(two_ambiti, crema) == {"cremasco"} == {case_ambito(two_ambiti, crema)}
    assert deadline_ambiti(two_ambiti, lodi) == {"lodi"} == {case_ambito(two_ambiti, lodi)}


def test_a_case_transferred_into_another_ambito_takes_its_deadlines_there_and_off_the_first_ones_oggi(
        two_ambiti, service):
    case = open_patto(service, service.actor("as.rossi"))
    drive_to_active(service, case)
    coord_crema, coord_lodi = principal_for(two_ambiti, "coord.crema"), principal_for(two_ambiti, "coord.lodi")

    def listed(who) -> set[int]:
        page = today_for(two_ambiti, who, today=TODAY)
        return {d.case_id for d in [*page.overdue, *page.upcoming]}

    assert case in listed(coord_crema) and case not in listed(coord_lodi)

    handover.transfer(two_ambiti, coord_crema, case, {"nuovo_comune": LODI, "motivo": "Cambio di residenza"},
                      now=datetime(2026, 11, 20, 10, 0, tzinfo=ROME))

    assert case_ambito(two_ambiti, case) == "lodi"
    assert deadline_ambiti(two_ambiti, case) == {"lodi"}
    assert case not in listed(coord_crema) and case in listed(coord_lodi)


@pytest.mark.parametrize("username", ["as.rossi", "coord.crema", "udp.neri", "as.lodi", "coord.lodi", "udp.lodi"])
def test_the_oggi_lists_read_by_the_deadline_s_ambito_are_the_rows_the_case_s_tenancy_gives(
        two_ambiti, service, username):
    for surname in ("Bassi", "Conti", "Ferri"):
        drive_to_active(service, open_patto(service, service.actor("as.rossi"), surname=surname))
        lodi_patto(service, surname)
    who = principal_for(two_ambiti, username)
    horizon = date(2027, 12, 31)  # every open deadline, overdue or not
    by_column = today_reads.deadlines_due(two_ambiti, answers_for_filter(who, today=TODAY), username=username,
                                          today=TODAY, horizon=horizon, limit=200, ambito=who.ambito)
    by_case = today_reads.deadlines_due(two_ambiti, answers_for_filter(who, today=TODAY), username=username,
                                        today=TODAY, horizon=horizon, limit=200)
    assert by_column == by_case
    assert by_column[1] + by_column[3] > 0 or username.startswith("udp")
    breaches = [today_reads.statutory_breaches(two_ambiti, scoped_filter(who, today=TODAY), username=username,
                                               today=TODAY, limit=200, ambito=a) for a in (who.ambito, None)]
    assert breaches[0][0] == breaches[1][0]
