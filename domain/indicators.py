"""The indicators for the Ufficio di Piano and the Organismo di Valutazione (DOMAIN.md §8), declared as data.

Every figure is an aggregate over the audit history (never a counter that can drift): which steps count,
what value of their data is summed, which filter applies. Ratios combine two of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from domain.italian import ROME


class Agg(StrEnum):
    COUNT = "count"  # audit rows
    CASES = "cases"  # distinct cases
    SUM = "sum"
    MEAN = "mean"


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    group: str  # the code of the case type's IndicatorGroup (patti, fna, sad...)
    case_type: str
    transitions: tuple[str, ...]
    agg: Agg = Agg.COUNT
    field: tuple[str, ...] | None = None  # JSON path in the step's data, for SUM and MEAN
    where: tuple[tuple[tuple[str, ...], str], ...] = ()  # (JSON path, value) filters on the step's data
    unit: str = "n"  # n | eur | ore | giorni | pct | tasso
    cumulative: bool = True  # a yearly flow (projectable to year end)
    from_case: bool = False  # `field` is read from the case's data (e.g. the voucher's monthly hours), not the step's


@dataclass(frozen=True)
class Ratio:
    code: str
    label: str
    group: str
    numerator: str
    denominator: str
    scale: float = 100.0
    unit: str = "pct"


@dataclass(frozen=True)
class Interval:
    """Days from the first `start` step to the first later `end` step of a case (median, p90), gross and net of
    the days spent in suspended states in between."""

    code: str
    label: str
    group: str
    case_type: str
    start: tuple[str, ...]
    end: tuple[str, ...]


def all_measures() -> tuple[Measure, ...]:
    """Every case type's measures, in registry order (each case type declares its own, domain/casetypes/)."""
    from domain.registry import all_case_types

    return tuple(m for ct in all_case_types() for m in ct.measures)


def all_ratios() -> tuple[Ratio, ...]:
    from domain.registry import all_case_types

    return tuple(r for ct in all_case_types() for r in ct.ratios)


def all_intervals() -> tuple[Interval, ...]:
    from domain.registry import all_case_types

    return tuple(iv for ct in all_case_types() for iv in ct.intervals)


BY_DIMENSIONS = ("totale", "sub_ambito", "comune", "tipologia", "misura", "fascia_eta", "ente")

AGE_BANDS = ((0, 17, "0-17"), (18, 64, "18-64"), (65, 79, "65-79"), (80, 200, "80+"))
DISTRICT = "distretto"  # the breakdown key of cases without a comune (calls, provider adhesions)


@dataclass(frozen=True)
class Period:
    """The part of a year the tallies count as of a day (of one Ambito's cases, when `ambito` is given)."""
    year: int
    as_of: date
    ambito: Any = None  # a domain.conditions.AmbitoScope, or None: every case of the instance

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return min(date(self.year, 12, 31), self.as_of)

    @property
    def recorded_before(self) -> datetime:
        """End of the as-of day in Rome, in UTC: later recordings are not part of that day's numbers."""
        return datetime.combine(self.as_of + timedelta(days=1), time(0, 0), ROME).astimezone(timezone.utc)

    @property
    def elapsed_share(self) -> float:
        days = (date(self.year, 12, 31) - self.start).days + 1
        return min(1.0, max(1, (self.end - self.start).days + 1) / days)


def age_band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def target_status(value: float | None, low: float, high: float) -> str | None:
    if value is None:
        return None
    return "sotto" if value < low else "sopra" if value > high else "entro"
