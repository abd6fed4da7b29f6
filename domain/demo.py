"""The synthetic demo year: what a case type's generator receives, and the helpers generators share. Pure.

Each case type may declare a generator (`CaseType.demo`): a callable taking a `DemoContext` that opens and
advances its cases through the context, with explicit effective dates. The service (`services/demo.py`)
implements the context over the real case service and runs every registered generator, by ascending
`order` (then registry order): a generator that uses what another leaves in `ctx.shared` runs after it.
A generator may also report figures for the summary (`summary(tally) -> dict`).

Nothing here, and nothing a generator writes, is a real person (see `domain.demo_people`).
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from domain import demo_people as people
from domain.calendar import WorkingCalendar
from domain.workflow import Role

# What one generator leaves in `ctx.shared` for a later one: (person, ComuneInfo) of the people the
# home-care service already follows, some of whom apply for other measures.
PEOPLE_IN_HOME_CARE = "persone_assistite_a_domicilio"
_SEQ = itertools.count()  # ties between steps of one case on the same day: creation order


@dataclass(frozen=True)
class ComuneInfo:
    istat: str
    belfiore: str
    nome: str
    popolazione: int
    sub_ambito: str


@dataclass(frozen=True)
class ProviderInfo:
    codice: str
    nome: str
    comuni: frozenset[str]
    user: str  # the provider's demo user


@dataclass
class Run:
    """One case being driven: its id and the date of its last step."""

    id: int
    last: date
    alive: bool = True


@dataclass(order=True)
class Ev:
    """One step of a case's script; a script is played in (date, priority, creation) order."""

    on: date
    prio: int  # 0: provider's monthly log, before anything else that day
    seq: int
    transition: str = field(compare=False)
    user: str = field(compare=False)
    data: Any = field(compare=False, default=None)
    reason: str | None = field(compare=False, default=None)


@dataclass(frozen=True)
class DemoTally:
    """What the demo produced, for a generator's summary lines."""

    cases: Mapping[str, Mapping[str, int]]  # case type -> state -> cases
    outcomes: Mapping[str, Mapping[str, int]]  # case type -> outcome -> cases
    facts: Mapping[str, Any]  # what generators recorded in ctx.facts


class DemoGenerator(Protocol):
    """A case type's generator. `order` (default 0) and `summary` are optional attributes."""

    order: int

    def __call__(self, ctx: DemoContext) -> None: ...

    def summary(self, tally: DemoTally) -> dict[str, Any]: ...


def generator(order: int = 0, summary: Callable[[DemoTally], dict[str, Any]] | None = None):
    """Decorate a function `run(ctx)` as a generator with its order and optional summary."""
    def wrap(run: Callable[[DemoContext], None]) -> DemoGenerator:
        run.order = order  # type: ignore[attr-defined]
        run.summary = summary or (lambda tally: {})  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]
    return wrap


class DemoContext(Protocol):
    """The district, its staff and the case service, as a generator sees them.

    The service implements the attributes and `open`, `advance`, `persona`; the rest are shared helpers
    built on them (a concrete context subclasses this protocol to inherit them).
    """

    rng: random.Random  # the demo's seeded generator: draw from it in a fixed order
    year: int
    scale: float
    today: date  # no step is dated after it
    calendar: WorkingCalendar
    comuni: list[ComuneInfo]  # by ISTAT code
    providers: list[ProviderInfo]  # by codice
    workers: Mapping[str, list[str]]  # sub-ambito -> its social workers
    coordinators: Mapping[str, str]  # sub-ambito -> its coordinator
    system_user: str
    shared: dict[str, Any]  # what a generator leaves for a later one
    facts: dict[str, Any]  # figures a generator reports in the summary

    def users(self, role: Role) -> list[str]: ...

    def policy_on(self, day: date) -> Any:
        """The policy version in force on `day` (amounts and caps a generator must respect)."""
        ...

    def open(self, case_type: str, user: str, on: date, data: dict, *, kind: str | None = None,
             comune: str | None = None, related: int | None = None) -> Run | None:
        """Open a case effective `on`; None when `on` is after today."""
        ...

    def advance(self, run: Run | None, transition: str, user: str, on: date, data: Any = None,
                reason: str | None = None) -> bool:
        """Fire a transition effective `on` (data may be a callable); False, and the run ends, after today."""
        ...

    def persona(self, rng: random.Random, comune: ComuneInfo, age_lo: int, age_hi: int) -> dict: ...

    def note(self, text: str) -> None: ...

    # ------------------------------------------------------------------ shared helpers

    def n(self, base: int) -> int:
        return max(0, round(base * self.scale))

    def wd(self, d: date, n: int, comune: str | None = None) -> date:
        return self.calendar.add_working_days(d, n, comune)

    def nwd(self, d: date, comune: str | None = None) -> date:
        return self.calendar.next_working_day(d, comune)

    def pwd(self, d: date, comune: str | None = None) -> date:
        while not self.calendar.is_working_day(d, comune):
            d -= timedelta(days=1)
        return d

    @property
    def first_day(self) -> date:
        return self.nwd(date(self.year, 1, 2))

    def review_day(self, target: date, not_before: date, istat: str) -> date:
        t = review_day(target, not_before)
        return self.nwd(t, istat) if t.day <= 26 else self.pwd(t, istat)

    def pick_comune(self, rng: random.Random) -> ComuneInfo:
        return rng.choices(self.comuni, weights=[ci.popolazione for ci in self.comuni])[0]

    def isee(self, rng: random.Random, on: date, tipo: str, lo: float, hi: float) -> dict:
        return people.isee(rng, on, tipo, lo, hi)

    def iban(self, rng: random.Random) -> str:
        return people.make_iban(rng)

    def ev(self, on: date, transition: str, user: str, data: Any = None, reason: str | None = None,
           prio: int = 1) -> Ev:
        return Ev(on, prio, next(_SEQ), transition, user, data, reason)

    def play(self, run: Run | None, events: list[Ev]) -> None:
        for e in sorted(events):
            if not self.advance(run, e.transition, e.user, e.on, e.data, e.reason):
                return

    def place(self, plan: Callable[[date], dict], window: tuple[str, str | None] | None, end: str | None,
              rng: random.Random, earliest: date | None = None, cohort: tuple[date, date] | None = None,
              cohort_share: float = 0.0) -> dict:
        """Choose the opening date so that the case is in the wanted state on `today`.

        `plan(opening) -> marks` lays the case out from an opening date. A terminal fate ends on
        marks[end] no later than today; otherwise today falls in [marks[window[0]], marks[window[1]]).
        `cohort` is a span of opening dates used for a share of the cases (e.g. January's take-overs).
        """
        r0 = earliest or self.first_day
        if r0 > self.today:
            return plan(r0)
        span = (self.today - r0).days
        if cohort and rng.random() < cohort_share:
            lo, hi = max(cohort[0], r0), min(cohort[1], self.today)
            if lo <= hi:
                marks = plan(self._working(lo + timedelta(days=rng.randint(0, (hi - lo).days)), r0))
                if end is None or (marks.get(end) is not None and marks[end] <= self.today):
                    return marks
        ref_day = self._working(max(r0, self.today - timedelta(days=120)), r0)
        ref = plan(ref_day)  # offsets as they are late in the year (no waiting for the first providers)
        marks = ref
        for _ in range(12):  # working days and holidays shift the plan a little: try a few openings
            if end is not None:
                if ref.get(end) is None:
                    r = self.today - timedelta(days=rng.randint(0, span))
                else:
                    last = self.today - (ref[end] - ref_day)
                    r = r0 + timedelta(days=rng.randint(0, max(0, (last - r0).days)))
            else:
                first, stop = window
                if ref.get(first) is None:
                    r = self.today - timedelta(days=rng.randint(0, span))
                else:
                    lo = (ref[first] - ref_day).days
                    hi = (ref[stop] - ref_day).days - 1 if stop and ref.get(stop) else span
                    lo = min(lo, span)
                    hi = min(max(hi, lo), span)
                    r = self.today - timedelta(days=rng.randint(lo, hi))
            marks = plan(self._working(r, r0))
            if self._placed(marks, window, end):
                break
        return marks

    def _placed(self, marks: dict, window: tuple[str, str | None] | None, end: str | None) -> bool:
        if end is not None:
            return marks.get(end) is not None and marks[end] <= self.today
        first, stop = window
        if marks.get(first) is None or marks[first] > self.today:
            return False
        return stop is None or marks.get(stop) is None or self.today < marks[stop]

    def _working(self, r: date, r0: date) -> date:
        w = self.pwd(r)
        return w if w >= r0 else self.nwd(r0)


# ----------------------------------------------------------------------------- dates, money, allocation


def add_months(d: date, n: int) -> date:
    years, month0 = divmod(d.month - 1 + n, 12)
    return date(d.year + years, month0 + 1, min(d.day, 28))


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return add_months(d.replace(day=1), 1)


def review_day(target: date, not_before: date) -> date:
    """A day between the 11th and the 28th (the 1st-10th are for the providers' monthly logs) near
    `target`, the earlier one when it is not before `not_before`."""
    if 11 <= target.day <= 28:
        return target
    if target.day > 28:
        return target.replace(day=28)
    earlier = (target.replace(day=1) - timedelta(days=3)).replace(day=28)
    return earlier if earlier >= not_before else target.replace(day=11)


def money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def allocate(table: tuple[tuple[str, int], ...], n: int) -> list[str]:
    """n fates in the table's proportions; at small n one of each, in the table's order, first."""
    names = [name for name, _ in table]
    counts = dict.fromkeys(names, 0)
    for name in names[:n]:
        counts[name] = 1
    rest = n - sum(counts.values())
    if rest > 0:
        total = sum(w for _, w in table)
        quotas = [(name, rest * w / total) for name, w in table]
        for name, q in quotas:
            counts[name] += int(q)
        left = rest - sum(int(q) for _, q in quotas)
        by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i][1] - int(quotas[i][1])), i))
        for i in by_remainder[:left]:
            counts[quotas[i][0]] += 1
    return [name for name in names for _ in range(counts[name])]


def full_name(person: dict) -> str:
    return f"{person['nome']} {person['cognome']}"

