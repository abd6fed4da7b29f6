"""Intervals between steps (median and p90, gross and net of suspensions), re-referrals and state-to-state steps:
the parts of the tallies that pair a case's steps (services/tallies.py assembles them). The steps are paired and
measured in store/tallies/intervals.py; here each figure is hidden by the people behind it."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.engine import Connection

from domain.indicators import Interval, Period
from domain.registry import get_workflow
from services.tally_cells import cell, suppress_complements
from store.tallies import intervals as store
from store.tallies.keys import key as _key

# ------------------------------------------------------------------------------------ intervals


def _suspended_states(case_type: str) -> set[str]:
    return {s.name for s in get_workflow(case_type).states if s.suspended}


def _interval(conn: Connection, iv: Interval, period: Period, by: str, names, threshold: int) -> dict[str, Any]:
    suspended = _suspended_states(iv.case_type)
    measured = store.interval_cells(conn, iv, suspended, period, by, names)
    personal = get_workflow(iv.case_type).has_person

    def stats(n: int, people: int, median: float | None, p90: float | None) -> dict[str, Any]:
        """A median over fewer people than the threshold would be their own figures, however many cases: hidden."""
        if personal and 0 < people < threshold:
            return {"casi": None, "mediana": None, "p90": None, "soppresso": True}
        return {"casi": n, "mediana": median, "p90": p90, "soppresso": False}

    return {"codice": iv.code, "etichetta": iv.label, "gruppo": iv.group, "unita": "giorni",
            "lordo": {k: stats(c[0], c[5], c[1], c[2]) for k, c in sorted(measured.items())},
            "netto_sospensioni": {k: stats(c[0], c[5], c[3], c[4]) for k, c in sorted(measured.items())}}


# ------------------------------------------------------------------------------------ re-referrals, state steps


def _rereferrals(conn: Connection, ct, rr, period: Period, by: str, names, threshold: int,
                steps: dict | None = None) -> dict[str, Any]:
    """`rr.transition` steps of a case type (e.g. referrals for a patto) in the period, of people who had one in
    the `rr.days` before: each step is paired with the person's previous one in SQL (lag), and only those with
    one come back. `steps`: the rows already read for another breakdown of the same period, kept there."""
    known = (ct.case_type, rr.transition, rr.days)
    rows = steps.get(known) if steps is not None else None
    if rows is None:
        rows = store.rereferral_steps(conn, ct.case_type, rr.transition, rr.days, period)
        if steps is not None:
            steps[known] = rows
    groups: dict[str, list] = defaultdict(lambda: [0, set()])
    for r in rows:
        if (r.effective_on - r.previous).days <= rr.days:
            for key in {"totale", _key(r, by, names, period.year)}:
                groups[key][0] += 1
                groups[key][1].add(r.person_id)
    cells = {k: cell(g[0], len(g[1]), threshold) for k, g in groups.items()}
    total = cells.pop("totale", cell(0, 0, threshold))
    return {"codice": rr.code, "etichetta": rr.label,
            "gruppo": ct.group.code, "tipo_caso": ct.case_type, "unita": "n", "totale": total,
            "righe": suppress_complements([{"chiave": k, **c} for k, c in sorted(cells.items())], total),
            "obiettivo": None}


def _state_intervals(conn: Connection, period: Period, threshold: int) -> list[dict[str, Any]]:
    """Median and p90 of the days spent between every pair of consecutive states, per case type: the steps taken in
    the period, measured from the previous step of the same case (a suspended state's own time is the suspension).
    Hidden by the people behind the steps: one person may take the same step many times, in one case or several."""
    measured = store.state_steps(conn, period)
    result = []
    for (case_type, source, target), (n, median, p90, persons) in sorted(measured.items(),
                                                                         key=lambda kv: tuple(map(str, kv[0]))):
        wf = get_workflow(case_type)
        hidden = wf.has_person and 0 < persons < threshold
        result.append({
            "tipo_caso": case_type, "da": source, "a": target,
            "da_etichetta": wf.state(source).label, "a_etichetta": wf.state(target).label,
            "da_sospeso": wf.state(source).suspended, "casi": None if hidden else n,
            "mediana": None if hidden else median, "p90": None if hidden else p90, "soppresso": hidden,
        })
    return result
