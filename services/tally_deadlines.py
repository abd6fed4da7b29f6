"""Deadline and backlog tallies: the share of deadlines met on time per series and key, and the cases per
non-terminal state as of the day. Every cell is hidden by the people behind it (distinct persons), never by
the number of deadlines or cases: one person with nine deadlines is still one person. The counts are
store/tallies/deadlines.py's.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.indicators import Period
from domain.registry import all_case_types, all_workflows, get_workflow
from services.tally_cells import cell, suppress_complements
from store.tallies import deadlines as store


def deadlines_met(conn: Connection, period: Period, by: str, names, threshold: int) -> list[dict[str, Any]]:
    """Share of each series' deadlines met on time, per key. A cell is hidden by the people its deadlines are
    about (distinct persons), never by the deadlines: one person with nine deadlines is still one person."""
    del names  # the keys come from SQL (key_sql), as for the intervals
    series = (
        ("scadenze_statutory", "Scadenze normative rispettate", {"source": "statutory"}),
        ("scadenze_configured", "Scadenze configurate rispettate", {"source": "configured"}),
        *((di.code, di.label, {"case_type": ct.case_type, "kind": di.kind})
          for ct in all_case_types() for di in ct.deadline_indicators),
    )
    counted = store.deadline_counts(conn, period, by, [chosen for _, _, chosen in series])
    result = []
    for k, (code, label, _) in enumerate(series):
        cells = {}
        for key, row in counted.items():
            total, met, people = row[3 * k:3 * k + 3]
            if total:  # a key with no deadline of the series is no row of it
                cells[key] = cell(round(100 * met / total, 1), people or None, threshold)  # no person: calls
        total = cells.pop("totale", cell(None, 0, threshold))
        result.append({"codice": code, "etichetta": label, "unita": "pct", "totale": total,
                       "righe": suppress_complements([{"chiave": k, **c} for k, c in sorted(cells.items())], total)})
    return result


def backlog(conn: Connection, period: Period, threshold: int) -> list[dict[str, Any]]:
    """Cases per non-terminal state as of the day (from the history, not from the current state), hidden by
    the people they are about (one person may have several cases in the same state)."""
    rows = store.states_as_of(conn, period)
    terminal = {(wf.case_type, s.name) for wf in all_workflows() for s in wf.states if s.terminal}
    personal = {wf.case_type for wf in all_workflows() if wf.has_person}
    return [{"tipo_caso": r.case_type, "stato": r.to_state,
             "stato_etichetta": get_workflow(r.case_type).state(r.to_state).label,
             **cell(r.n, r.people if r.case_type in personal else None, threshold)}
            for r in sorted(rows, key=lambda r: (r.case_type, r.to_state)) if (r.case_type, r.to_state) not in terminal]
