"""Deadlines computed by the engine land on working days of the case's comune."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from config.district import load_district
from config.policy_files import load_policies
from domain.engine import Actor, CaseView, Command, decide
from domain.italian import ROME
from domain.registry import get_workflow
from domain.workflow import Role

CREMA, PANDINO = "019035", "019067"
POLICY = load_policies()[0]
CALENDAR = load_district().calendar()


def suspend(on: date, comune: str) -> date:
    """`sospendi` starts the 60-calendar-day suspension limit (patto.giorni_sospensione_max)."""
    case = CaseView(1, "patto", "inclusione", "ACTIVE", comune, "as.rossi", date(2025, 1, 2),
                    datetime(2025, 1, 2, tzinfo=ROME), POLICY.version, {}, version=4)
    when = datetime.combine(on, datetime.min.time(), ROME).replace(hour=10)
    decision = decide(get_workflow("patto"), case,
                      Command("sospendi", Actor("as.rossi", Role.SOCIAL_WORKER), when, reason="ricovero"),
                      policy=POLICY, calendar=CALENDAR, world=None, now=datetime(2027, 1, 1, tzinfo=ROME))
    (deadline,) = decision.new_deadlines
    assert (deadline.kind, deadline.basis, deadline.source) == ("sospensione", "calendar", "configured")
    return deadline.due


@pytest.mark.parametrize(
    ("start", "comune", "due", "why"),
    [
        (date(2025, 12, 31), CREMA, date(2026, 3, 2), "60 days later is Sunday 01/03/2026"),
        (date(2025, 2, 24), CREMA, date(2025, 4, 28), "60 days later is Friday 25/04/2025, Liberazione; then a weekend"),
        (date(2026, 4, 11), CREMA, date(2026, 6, 11), "60 days later is 10/06/2026, San Pantaleone in Crema"),
        (date(2026, 4, 11), PANDINO, date(2026, 6, 10), "10/06 is an ordinary Wednesday in Pandino"),
        (date(2026, 1, 5), CREMA, date(2026, 3, 6), "60 days later is a working Friday: no move"),
    ],
)
def test_a_calendar_day_deadline_on_a_holiday_moves_to_the_next_working_day(start, comune, due, why):
    assert suspend(start, comune) == due, why


def test_the_national_count_of_working_days_matches_the_reference_example():
    # DOMAIN.md §3: national holidays only, Saturday excluded
    assert CALENDAR.add_working_days(date(2025, 12, 1), 25) == date(2026, 1, 12)
    assert CALENDAR.add_working_days(date(2026, 1, 12), 20) == date(2026, 2, 9)
