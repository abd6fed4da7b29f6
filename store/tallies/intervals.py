"""The steps the interval tallies pair: each case's interval between two steps (gross and net of suspensions) with
median and p90 per key (window functions and percentile_cont on PostgreSQL, Python elsewhere), the re-referral
steps paired with the person's previous one, and the days between consecutive states per (type, from, to)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.indicators import Interval, Period, percentile
from domain.registry import get_workflow
from store.tables import case_t, transition_t
from store.tallies.keys import comune_t, in_ambito, key_sql, steps_in_ambito
from store.tallies.keys import key as _key

# ------------------------------------------------------------------------------------ intervals


def interval_cells(conn: Connection, iv: Interval, suspended: set[str], period: Period, by: str,
                   names) -> dict[str, tuple]:
    """{key: (cases, gross median, gross p90, net median, net p90, people)} of an interval, per key and in total
    ("totale"); `suspended`: the case type's suspended states, whose days the net figures leave out."""
    if conn.dialect.name == "postgresql" and _sql_closes_suspensions(iv):
        return _interval_cells_sql(conn, iv, suspended, period, by)
    return _interval_cells(conn, iv, suspended, period, by, names)


def _interval_rows_where(iv: Interval, suspended: set[str], period: Period) -> list[Any]:
    """The steps an interval needs: its start and end steps and the steps entering or leaving a suspended state.
    A step in between that neither enters nor leaves a suspension changes nothing (the history is gapless up
    to the as-of day: effective and recording times never go back, so `from_state` is the previous step's
    `to_state`)."""
    steps = transition_t.c.transition.in_(iv.start + iv.end)
    if suspended:
        steps = sa.or_(steps, transition_t.c.to_state.in_(suspended), transition_t.c.from_state.in_(suspended))
    return [case_t.c.case_type == iv.case_type, in_ambito(period), steps_in_ambito(period),
            transition_t.c.effective_on <= period.end,
            transition_t.c.recorded_at < period.recorded_before, steps]


def _interval_cells(conn: Connection, iv: Interval, suspended: set[str], period: Period, by: str,
                    names) -> dict[str, tuple]:
    """Portable path: the steps into Python, one case at a time; median and p90 per key (and its people)."""
    rows = conn.execute(
        sa.select(transition_t.c.case_id, case_t.c.person_id, transition_t.c.seq, transition_t.c.transition,
                  transition_t.c.to_state, transition_t.c.effective_on, case_t.c.comune_istat, comune_t.c.sub_ambito, case_t.c.kind,
                  case_t.c.provider_codice, sa.null().label("misura"), sa.null().label("nato"))
        .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(*_interval_rows_where(iv, suspended, period))
        .order_by(transition_t.c.case_id, transition_t.c.seq)
    ).all()
    gross: dict[str, list[float]] = defaultdict(list)
    net: dict[str, list[float]] = defaultdict(list)
    people: dict[str, set] = defaultdict(set)
    for case_rows in _by_case(rows):
        measured = _case_interval(case_rows, iv, suspended, period)
        if measured is not None:
            for key in {"totale", _key(case_rows[0], by, names, period.year)}:
                gross[key].append(measured[0])
                net[key].append(measured[1])
                people[key].add(case_rows[0].person_id)
    return {k: (len(v), percentile(v, 0.5), percentile(v, 0.9), percentile(net[k], 0.5), percentile(net[k], 0.9),
                len(people[k] - {None})) for k, v in gross.items()}


def _sql_closes_suspensions(iv: Interval) -> bool:
    """The SQL path counts a suspension from the step entering it to the step leaving it: an end step that
    itself suspends would leave one open (the Python path ignores it): keep such intervals in Python."""
    wf = get_workflow(iv.case_type)
    return not any(wf.state(wf.transition(name).target).suspended for name in iv.end)


EPOCH = date(2000, 1, 1)


def _interval_cells_sql(conn: Connection, iv: Interval, suspended: set[str], period: Period,
                        by: str) -> dict[str, tuple]:
    """PostgreSQL: each case's interval with window functions (first start, first later end, the days spent in
    suspended states in between), median and p90 with percentile_cont per key and in total."""
    t = transition_t
    day = sa.type_coerce(t.c.effective_on - sa.literal(EPOCH, sa.Date), sa.Integer)
    enters = t.c.to_state.in_(suspended) if suspended else sa.false()
    leaves_prev = t.c.from_state.in_(suspended) if suspended else sa.false()
    steps = (
        sa.select(t.c.case_id, t.c.seq, t.c.transition, day.label("d"), enters.label("s"),
                  leaves_prev.label("fs"),
                  sa.func.min(t.c.seq).filter(t.c.transition.in_(iv.start))
                  .over(partition_by=t.c.case_id).label("s0"))
        .select_from(t.join(case_t, case_t.c.id == t.c.case_id))
        .where(*_interval_rows_where(iv, suspended, period))
        .subquery("steps")
    )
    r = (
        sa.select(steps, sa.func.min(steps.c.seq).filter(sa.and_(steps.c.transition.in_(iv.end),
                                                                  steps.c.seq > steps.c.s0))
                  .over(partition_by=steps.c.case_id).label("e0"))
        .where(steps.c.s0.is_not(None))
        .subquery("ranged")
    )
    prev_suspended = sa.and_(r.c.fs, r.c.seq - 1 > r.c.s0)  # the previous step is in range and suspended
    paused = sa.case((sa.and_(sa.not_(r.c.s), prev_suspended), r.c.d),
                     (sa.and_(r.c.s, sa.not_(prev_suspended)), -r.c.d))
    d1 = sa.func.max(r.c.d).filter(r.c.seq == r.c.e0)
    per_case = (
        sa.select(r.c.case_id, d1.label("d1"), (d1 - sa.func.max(r.c.d).filter(r.c.seq == r.c.s0)).label("gross"),
                  sa.func.coalesce(sa.func.sum(paused).filter(sa.and_(r.c.seq > r.c.s0, r.c.seq <= r.c.e0)), 0)
                  .label("paused"))
        .where(r.c.e0.is_not(None))
        .group_by(r.c.case_id)
        .subquery("per_case")
    )
    gross = sa.cast(per_case.c.gross, sa.Float)
    net = sa.cast(per_case.c.gross - per_case.c.paused, sa.Float)
    key = key_sql(by)
    figures = [sa.func.count().label("n"),
               sa.func.percentile_cont(0.5).within_group(gross), sa.func.percentile_cont(0.9).within_group(gross),
               sa.func.percentile_cont(0.5).within_group(net), sa.func.percentile_cont(0.9).within_group(net),
               sa.func.count(sa.distinct(case_t.c.person_id)).label("people")]
    q = (sa.select(*([key.label("key")] if key is not None else []), *figures)
         .select_from(per_case.join(case_t, case_t.c.id == per_case.c.case_id)
                      .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
         .where(per_case.c.d1 >= (period.start - EPOCH).days))
    if key is not None:
        q = q.group_by(sa.func.rollup(key))
    cells = {}
    for row in conn.execute(q):
        if row.n:  # a ROLLUP over no cases still gives its grand-total row
            k = "totale" if key is None or row.key is None else row.key
            cells[k] = (row.n, *(None if v is None else float(v) for v in row[-5:-1]), row.people)
    return cells


def _by_case(rows: list[Any]):
    current: list[Any] = []
    for row in rows:
        if current and row.case_id != current[0].case_id:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _case_interval(rows: list[Any], iv: Interval, suspended: set[str], period: Period):
    start = next((r for r in rows if r.transition in iv.start), None)
    end = next((r for r in rows if r.transition in iv.end and start and r.seq > start.seq), None)
    if start is None or end is None or end.effective_on < period.start:
        return None
    paused, since = 0, None
    for r in rows:
        if not (start.seq < r.seq <= end.seq):
            continue
        if r.to_state in suspended and since is None:
            since = r.effective_on
        elif r.to_state not in suspended and since is not None:
            paused += (r.effective_on - since).days
            since = None
    days = (end.effective_on - start.effective_on).days
    return float(days), float(days - paused)


# ------------------------------------------------------------------------------------ re-referrals, state steps


def rereferral_steps(conn: Connection, case_type: str, transition: str, days: int, period: Period) -> list[Any]:
    """The `transition` steps of `case_type` in the period, each paired in SQL (lag) with the same person's previous
    one (since `days` before the period), and only those with one: (person_id, effective_on, previous,
    comune_istat, sub_ambito, kind, provider_codice, misura, nato)."""
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(
        partition_by=case_t.c.person_id, order_by=(transition_t.c.effective_on, transition_t.c.case_id))
    referrals = (
        sa.select(case_t.c.person_id, transition_t.c.effective_on, previous.label("previous"), case_t.c.comune_istat,
                  comune_t.c.sub_ambito, case_t.c.kind, case_t.c.provider_codice, sa.null().label("misura"),
                  sa.null().label("nato"))
        .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(case_t.c.case_type == case_type, transition_t.c.transition == transition, in_ambito(period),
               steps_in_ambito(period),
               transition_t.c.effective_on >= period.start - timedelta(days=days),
               transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before)
        .subquery()
    )
    return conn.execute(sa.select(referrals).where(referrals.c.previous.is_not(None),
                                                   referrals.c.effective_on >= period.start)).all()


def state_steps(conn: Connection, period: Period) -> dict[tuple, tuple]:
    """{(case_type, from_state, to_state): (steps, median days, p90 days, distinct people)} of the steps taken in
    the period, each measured from the previous step of the same case."""
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(partition_by=transition_t.c.case_id,
                                                             order_by=transition_t.c.seq)
    steps = (sa.select(case_t.c.case_type, transition_t.c.from_state, transition_t.c.to_state,
                       transition_t.c.effective_on, previous.label("previous"), case_t.c.person_id)
             .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id))
             .where(transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before,
                    in_ambito(period), steps_in_ambito(period))
             .subquery())
    keys = (steps.c.case_type, steps.c.from_state, steps.c.to_state)
    where = (steps.c.previous.isnot(None), steps.c.effective_on >= period.start)
    measured: dict[tuple, tuple] = {}
    if conn.dialect.name == "postgresql":
        days = steps.c.effective_on - steps.c.previous
        q = (sa.select(*keys, sa.func.count(), sa.func.percentile_cont(0.5).within_group(days),
                       sa.func.percentile_cont(0.9).within_group(days), sa.func.count(sa.distinct(steps.c.person_id)))
             .where(*where).group_by(*keys))
        measured = {tuple(r[:3]): (r[3], float(r[4]), float(r[5]), r[6]) for r in conn.execute(q)}
    else:
        values: dict[tuple, list[float]] = defaultdict(list)
        people: dict[tuple, set] = defaultdict(set)
        for r in conn.execute(sa.select(*keys, steps.c.effective_on, steps.c.previous, steps.c.person_id)
                              .where(*where)):
            values[tuple(r[:3])].append(float((r.effective_on - r.previous).days))
            people[tuple(r[:3])].add(r.person_id)
        measured = {k: (len(v), percentile(v, 0.5), percentile(v, 0.9), len(people[k] - {None}))
                    for k, v in values.items()}
    return measured
