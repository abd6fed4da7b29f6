"""The deadline and backlog counts: deadlines of each series due in the period and met on time, with the distinct
people behind them, per breakdown key; and the cases per state as of the day (from the history)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.indicators import Period
from store.tables import case_t, deadline_t, transition_t
from store.tallies.keys import ambito_steps, by_key, comune_t, in_ambito, key_sql, steps_in_ambito


def _chosen(series: dict[str, str]):
    """A series of deadlines: {"source": "statutory" | "configured"}, or {"case_type": ..., "kind": ...}."""
    if "source" in series:
        return deadline_t.c.source == series["source"]
    return sa.and_(case_t.c.case_type == series["case_type"], deadline_t.c.kind == series["kind"])


def deadline_counts(conn: Connection, period: Period, by: str,
                    series: Sequence[dict[str, str]]) -> dict[str, tuple]:
    """{key: (deadlines, met on time, distinct people) for each series in turn} of the deadlines due in the
    period, per key of the breakdown and in total ("totale"); a deadline cancelled or expired by the day is none."""
    started = transition_t.alias("started")
    closed_by = deadline_t.c.closed_on <= period.as_of
    on_time = sa.and_(deadline_t.c.status == "met", deadline_t.c.closed_on <= deadline_t.c.due, closed_by)
    figures = []
    for chosen in map(_chosen, series):
        figures += [sa.func.count(sa.case((chosen, 1))), sa.func.count(sa.case((sa.and_(chosen, on_time), 1))),
                    sa.func.count(sa.distinct(sa.case((chosen, case_t.c.person_id))))]
    q = (sa.select(*figures)
         .select_from(deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id)
                      .join(started, sa.and_(started.c.case_id == deadline_t.c.case_id,
                                             started.c.seq == deadline_t.c.started_seq))
                      .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
         .where(deadline_t.c.due >= period.start, deadline_t.c.due < period.end, in_ambito(period),
                started.c.recorded_at < period.recorded_before,
                ~sa.and_(deadline_t.c.status.in_(("cancelled", "expired")), closed_by)))
    return dict(by_key(conn, q, key_sql(by)))


def states_as_of(conn: Connection, period: Period) -> list[Any]:
    """(case_type, to_state, n, people) of the cases per state as of the day, from each case's last step
    effective and recorded by then."""
    last = (sa.select(transition_t.c.case_id, sa.func.max(transition_t.c.seq).label("seq"))
            .select_from(ambito_steps(period))  # one Ambito's: its cases' steps only, before grouping
            .where(transition_t.c.effective_on <= period.as_of, transition_t.c.recorded_at < period.recorded_before,
                   in_ambito(period), steps_in_ambito(period))
            .group_by(transition_t.c.case_id).subquery())
    return conn.execute(
        sa.select(case_t.c.case_type, transition_t.c.to_state, sa.func.count().label("n"),
                  sa.func.count(sa.distinct(case_t.c.person_id)).label("people"))
        .select_from(last.join(transition_t, sa.and_(transition_t.c.case_id == last.c.case_id,
                                                     transition_t.c.seq == last.c.seq))
                     .join(case_t, case_t.c.id == last.c.case_id))
        .where(in_ambito(period))
        .group_by(case_t.c.case_type, transition_t.c.to_state)
    ).all()
