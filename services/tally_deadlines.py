"""Deadline and backlog tallies: the share of deadlines met on time per series and key, and the cases per
non-terminal state as of the day. Every cell is hidden by the people behind it (distinct persons), never by
the number of deadlines or cases: one person with nine deadlines is still one person.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.registry import all_case_types, all_workflows, get_workflow
from services.tally_cells import Period, by_key, cell, comune_t, key_sql, suppress_complements
from store.tables import case_t, deadline_t, transition_t


def deadlines_met(conn: Connection, period: Period, by: str, names, threshold: int) -> list[dict[str, Any]]:
    """Share of each series' deadlines met on time, per key. A cell is hidden by the people its deadlines are
    about (distinct persons), never by the deadlines: one person with nine deadlines is still one person."""
    del names  # the keys come from SQL (key_sql), as for the intervals
    series = (
        ("scadenze_statutory", "Scadenze normative rispettate", deadline_t.c.source == "statutory"),
        ("scadenze_configured", "Scadenze configurate rispettate", deadline_t.c.source == "configured"),
        *((di.code, di.label, sa.and_(case_t.c.case_type == ct.case_type, deadline_t.c.kind == di.kind))
          for ct in all_case_types() for di in ct.deadline_indicators),
    )
    started = transition_t.alias("started")
    closed_by = deadline_t.c.closed_on <= period.as_of
    on_time = sa.and_(deadline_t.c.status == "met", deadline_t.c.closed_on <= deadline_t.c.due, closed_by)
    figures = []
    for _, _, chosen in series:
        figures += [sa.func.count(sa.case((chosen, 1))), sa.func.count(sa.case((sa.and_(chosen, on_time), 1))),
                    sa.func.count(sa.distinct(sa.case((chosen, case_t.c.person_id))))]
    q = (sa.select(*figures)
         .select_from(deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id)
                      .join(started, sa.and_(started.c.case_id == deadline_t.c.case_id,
                                             started.c.seq == deadline_t.c.started_seq))
                      .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
         .where(deadline_t.c.due >= period.start, deadline_t.c.due < period.end,
                started.c.recorded_at < period.recorded_before,
                ~sa.and_(deadline_t.c.status.in_(("cancelled", "expired")), closed_by)))
    counted = dict(by_key(conn, q, key_sql(by)))
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
    last = (sa.select(transition_t.c.case_id, sa.func.max(transition_t.c.seq).label("seq"))
            .where(transition_t.c.effective_on <= period.as_of, transition_t.c.recorded_at < period.recorded_before)
            .group_by(transition_t.c.case_id).subquery())
    rows = conn.execute(
        sa.select(case_t.c.case_type, transition_t.c.to_state, sa.func.count().label("n"),
                  sa.func.count(sa.distinct(case_t.c.person_id)).label("people"))
        .select_from(last.join(transition_t, sa.and_(transition_t.c.case_id == last.c.case_id,
                                                     transition_t.c.seq == last.c.seq))
                     .join(case_t, case_t.c.id == last.c.case_id))
        .group_by(case_t.c.case_type, transition_t.c.to_state)
    ).all()
    terminal = {(wf.case_type, s.name) for wf in all_workflows() for s in wf.states if s.terminal}
    personal = {wf.case_type for wf in all_workflows() if wf.has_person}
    return [{"tipo_caso": r.case_type, "stato": r.to_state,
             "stato_etichetta": get_workflow(r.case_type).state(r.to_state).label,
             **cell(r.n, r.people if r.case_type in personal else None, threshold)}
            for r in sorted(rows, key=lambda r: (r.case_type, r.to_state)) if (r.case_type, r.to_state) not in terminal]
