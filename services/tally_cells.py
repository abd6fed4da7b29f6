"""The pieces every tally cell shares: the period counted, the small-cell rule (by people) and the breakdown keys
in SQL. Split from services/tallies.py so that the deadline and backlog tallies (services/tally_deadlines.py) use
the same ones without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.indicators import age_band
from domain.italian import ROME
from store.tables import Comune, case_t

DISTRICT = "distretto"  # cases without a comune (calls, provider adhesions)
comune_t = Comune.__table__


@dataclass(frozen=True)
class Period:
    year: int
    as_of: date

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


def cell(value: Any, people: int | None, threshold: int) -> dict[str, Any]:
    """`people`: how many people the cell is about (None: not about people, never hidden)."""
    hidden = people is not None and 0 < people < threshold
    return {"valore": None if hidden else value, "n": None if hidden else people, "soppresso": hidden}


def suppress_complements(lines: list[dict], total: dict) -> list[dict]:
    """A single hidden cell could be recovered from the total: hide the smallest visible one too."""
    hidden = [line for line in lines if line["soppresso"]]
    visible = [line for line in lines if not line["soppresso"] and line["n"]]
    if len(hidden) == 1 and not total["soppresso"] and visible:
        smallest = min(visible, key=lambda line: line["n"])
        smallest.update(valore=None, n=None, soppresso=True)
    return lines


def key_sql(by: str):
    """services.tallies `_key` as a SQL expression, for rows with no FNA measure or birth year (intervals,
    deadlines)."""
    return {
        "sub_ambito": sa.func.coalesce(comune_t.c.sub_ambito, DISTRICT),
        "comune": sa.func.coalesce(comune_t.c.nome, DISTRICT),
        "type": sa.func.coalesce(case_t.c.kind, "—"),
        "misura": sa.literal("—"),
        "fascia_eta": sa.literal("—"),
        "ente": sa.func.coalesce(case_t.c.provider_codice, "—"),
    }.get(by)


def by_key(conn: Connection, q, key) -> list[tuple[str, tuple]]:
    """(key, figures) per value of the `key` expression, and ("totale", figures) over all (`key` None: only that):
    ROLLUP on PostgreSQL, a second statement elsewhere."""
    if key is None:
        return [("totale", tuple(conn.execute(q).one()))]
    if conn.dialect.name == "postgresql":
        rows = conn.execute(q.add_columns(key.label("key")).group_by(sa.func.rollup(key))).all()
        return [("totale" if r[-1] is None else r[-1], tuple(r[:-1])) for r in rows]
    rows = [(r[-1], tuple(r[:-1])) for r in conn.execute(q.add_columns(key.label("key")).group_by(key))]
    return [("totale", tuple(conn.execute(q).one())), *rows]


def key(row: Any, by: str, names: dict[str, str], year: int) -> str:
    if by == "totale":
        return "totale"
    if by == "sub_ambito":
        return row.sub_ambito or DISTRICT
    if by == "comune":
        return names.get(row.comune_istat, DISTRICT)
    if by == "type":
        return row.kind or "—"
    if by == "misura":
        return row.misura or "—"
    if by == "fascia_eta":
        return age_band(year - row.nato) if row.nato else "—"
    return row.provider_codice or "—"
