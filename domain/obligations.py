"""District obligations and reminder rules: pure, declared as data (config/obligations.toml, reminders.toml).

An obligation has a schedule (a yearly date, a monthly day, a fixed date, or the closing date of each
open FNA call), a scope (the whole district, each sub-ambito, each provider, each case), reminder steps
(T-60, T-30, T-7 ...; T+1 escalations) and the fact in the data that meets it. A manual "met" needs a reason.
"""
from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Scope(StrEnum):
    DISTRICT = "district"
    SUB_AMBITO = "sub_ambito"
    PROVIDER = "provider"
    CASE = "case"


@dataclass(frozen=True)
class Step:
    """A reminder `offset` days from the due date (negative: before) to `recipients` (roles, "ente", "owner")."""

    offset: int
    recipients: tuple[str, ...]
    escalation: bool = False

    @property
    def stage(self) -> str:
        return f"T{self.offset:+d}"


@dataclass(frozen=True)
class Schedule:
    kind: str  # "annual" | "monthly" | "dated" | "call_closing"
    month: int | None = None
    day: int | None = None
    on: date | None = None

    def due_dates(self, around: date) -> list[date]:
        """Due dates near `around` (the previous, current and next period)."""
        if self.kind == "annual":
            return [_safe(y, self.month, self.day) for y in (around.year - 1, around.year, around.year + 1)]
        if self.kind == "monthly":
            first = around.replace(day=1)
            months = [(first - timedelta(days=1)).replace(day=1), first, (first + timedelta(days=32)).replace(day=1)]
            return [_safe(m.year, m.month, self.day) for m in months]
        if self.kind == "dated":
            return [self.on]
        return []  # call_closing: the dates come from the data


@dataclass(frozen=True)
class Obligation:
    code: str
    label: str
    owner_role: str
    schedule: Schedule
    scope: Scope
    steps: tuple[Step, ...]
    fact: str  # name of the fact that meets it ("manuale": only a recorded decision does)
    description: str = ""

    def period_of(self, due: date) -> str:
        return {"annual": f"{due.year}", "monthly": f"{due:%Y-%m}"}.get(self.schedule.kind, due.isoformat())

    def first_step(self) -> int:
        return min(s.offset for s in self.steps)

    def last_step(self) -> int:
        return max(s.offset for s in self.steps)


def steps_due(ob: Obligation, due: date, as_of: date) -> list[Step]:
    """The reminder steps to send on `as_of` for an occurrence due on `due`.

    Catch-up without flooding: of the pre-due reminders only the latest one already reached is due
    (a sweep that missed T-60 and T-30 sends T-30 once, not both); every escalation step reached is due.
    The log of sent reminders makes each (occurrence, step, recipient) go out once.
    """
    reached = [s for s in ob.steps if due + timedelta(days=s.offset) <= as_of]
    reminders = [s for s in reached if not s.escalation]
    latest = [max(reminders, key=lambda s: s.offset)] if reminders and as_of <= due else []
    return latest + [s for s in reached if s.escalation]


def _safe(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DeadlineReminderPolicy:
    """Case deadlines: T-n working days to the owner, overdue to the coordinator, statutory to the UdP."""

    before_working_days: tuple[int, ...]
    overdue_role: str
    statutory_role: str
    without_owner: dict[str, tuple[str, ...]]  # case type -> recipients when nobody owns the case
    district_escalation: dict[str, str]  # case type without a comune -> who receives its escalations
    by_kind: dict[str, tuple[str, ...]]  # deadline kind -> recipients instead of the owner

    def stage_before(self, working_days_left: int) -> str | None:
        """The reminder stage for a deadline `working_days_left` away (catch-up: the nearest stage reached)."""
        reached = [n for n in self.before_working_days if working_days_left <= n]
        return f"T-{min(reached)}" if reached and working_days_left >= 0 else None

    def recipients_before(self, case_type: str, kind: str, has_owner: bool) -> tuple[str, ...]:
        if kind in self.by_kind:
            return self.by_kind[kind]
        if has_owner:
            return ("owner",)
        return self.without_owner.get(case_type, self.without_owner.get("default", ("subarea_coordinator",)))

    def escalation_role(self, case_type: str, has_comune: bool) -> str:
        return self.overdue_role if has_comune else self.district_escalation.get(case_type, self.statutory_role)
