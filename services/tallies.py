"""Indicators computed from the transition history, as of any date, with targets and small-cell suppression.

As of a day D: only steps effective on or before D *and recorded* by the end of D count, so recomputing a past
date gives the numbers the daily run of that day stored. One aggregate query per case type computes all its
indicators at the finest grain (comune, kind, FNA measure, birth year, provider); roll-ups to the requested breakdown
happen in Python, except the distinct people of each cell (a second statement per case type, grouped by the
requested key: a person may sit in several grain cells). Every cell is hidden by the people behind it
(services/tally_cells.py); the deadline and backlog tallies are in services/tally_deadlines.py. Intervals
(median and p90 of days between two steps) are computed per case in SQL with percentile_cont on PostgreSQL,
in Python elsewhere.
"""
from __future__ import annotations

from collections import defaultdict, namedtuple
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from config.tally_files import TallySettings, load_tally_settings
from domain.indicators import (
    AGE_BANDS, Agg, Interval, Measure, age_band, all_intervals, all_measures, all_ratios, percentile, target_status,
)
from domain.registry import all_case_types, get_case_type, get_workflow
from services.tally_cells import DISTRICT, Period, by_key, cell, comune_t, key_sql, suppress_complements
from services.tally_deadlines import backlog as _backlog  # module-level names: bench/tallies.py times them
from services.tally_deadlines import deadlines_met as _deadlines_met
from store import reference, snapshots
from store.tables import case_t, person_t, transition_t
from store.uow import reading, writing

BY = ("sub_ambito", "comune", "type", "totale", "misura", "fascia_eta", "ente")


def compute_tallies(engine: Engine, *, year: int, as_of: date | None = None, by: str = "sub_ambito",
                    settings: TallySettings | None = None) -> dict[str, Any]:
    if by not in BY:
        raise ValueError(f"--by: valore non ammesso «{by}» (scegliere tra {', '.join(BY)})")
    settings = settings or load_tally_settings()
    period = Period(year, as_of or min(date.today(), date(year, 12, 31)))
    with reading(engine) as conn:
        names = reference.comune_names(conn)
        measures = all_measures()
        cells = _measure_cells(conn, measures, period)
        people = _measure_people(conn, measures, period, by)
        indicators = [_indicator(m, cells[m.code], people.get(m.code), by, names, settings, period)
                      for m in measures]
        indicators += [_rereferrals(conn, ct, rr, period, by, names, settings.threshold)
                       for ct in all_case_types() for rr in ct.rereferrals]
        by_code = {i["codice"]: i for i in indicators}
        indicators += [_ratio(r, by_code, settings, period) for r in all_ratios()]
        intervals = [_interval(conn, iv, period, by, names, settings.threshold) for iv in all_intervals()]
        deadlines = _deadlines_met(conn, period, by, names, settings.threshold)
        backlog = _backlog(conn, period, settings.threshold)
        state_intervals = _state_intervals(conn, period, settings.threshold)
    return {
        "anno": year, "al": period.as_of.isoformat(), "per": by, "soglia_riservatezza": settings.threshold,
        "indicatori": indicators, "intervalli": intervals, "scadenze": deadlines, "arretrato": backlog,
        "intervalli_stati": state_intervals,
    }


# ------------------------------------------------------------------------------------ measures


def _json(path: tuple[str, ...]):
    return transition_t.c.data[path[0]] if len(path) == 1 else transition_t.c.data[path]


def _grain(case_type: str):
    """The finest breakdown an indicator is computed at, per case type."""
    birth_year = sa.cast(sa.extract("year", person_t.c.data_nascita), sa.Integer)
    chosen = get_case_type(case_type).breakdowns
    misura = case_t.c.data[chosen.misura_field].as_string() if chosen.misura_field else sa.null()
    return [case_t.c.comune_istat, comune_t.c.sub_ambito, case_t.c.kind, misura.label("misura"),
            (birth_year if chosen.age_bands else sa.null()).label("nato"),
            case_t.c.provider_codice]


def _unlabel(column):
    return getattr(column, "element", column)


_Cell = namedtuple("_Cell", "comune_istat sub_ambito kind misura nato provider_codice rows people total valued")


def _field(m: Measure):
    if not m.field:
        return sa.literal(0.0)
    if m.from_case:
        return (case_t.c.data[m.field[0]] if len(m.field) == 1 else case_t.c.data[m.field]).as_float()
    return _json(m.field).as_float()


def _measure_condition(m: Measure):
    cond = transition_t.c.transition.in_(m.transitions)
    for path, expected in m.where:
        cond = sa.and_(cond, _json(path).as_string() == expected)
    return cond


def _measure_cells(conn: Connection, measures: tuple[Measure, ...], period: Period) -> dict[str, list[Any]]:
    """Each measure's cells at the finest grain, one query per case type (one pass over the steps its measures
    count): each measure's aggregates take only its own steps (CASE inside the aggregate), and its cells are the
    grain rows where it counted at least one step, as a query of its own would return them."""
    by_type: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        by_type[m.case_type].append(m)
    cells: dict[str, list[Any]] = {}
    for case_type, group in by_type.items():
        grain = _grain(case_type)
        columns = []
        for m in group:
            cond = _measure_condition(m)
            value = _field(m)
            columns += [sa.func.count(sa.case((cond, 1))),
                        sa.func.count(sa.distinct(sa.case((cond, case_t.c.person_id)))),
                        sa.func.coalesce(sa.func.sum(sa.case((cond, value))), 0.0),
                        sa.func.count(sa.case((cond, value)))]
        q = _measure_steps(case_type, group, period).add_columns(*grain, *columns)
        rows = conn.execute(q.group_by(*(c for c in grain if not isinstance(_unlabel(c), sa.sql.elements.Null)))).all()
        for k, m in enumerate(group):
            at = len(grain) + 4 * k
            cells[m.code] = [_Cell(*r[:len(grain)], *r[at:at + 4]) for r in rows if r[at]]
    return cells


def _measure_steps(case_type: str, group: list[Measure], period: Period):
    """The steps of the period that the measures of one case type count (a select with no columns yet)."""
    steps = sorted({name for m in group for name in m.transitions})
    return (sa.select()
            .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                         .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat)
                         .outerjoin(person_t, person_t.c.id == case_t.c.person_id))
            .where(transition_t.c.transition.in_(steps), case_t.c.case_type == case_type,
                   transition_t.c.effective_on >= period.start, transition_t.c.effective_on <= period.end,
                   transition_t.c.recorded_at < period.recorded_before))


def _measure_people(conn: Connection, measures: tuple[Measure, ...], period: Period,
                    by: str) -> dict[str, dict[str, int]]:
    """Distinct people per key of the breakdown and in total ("totale"), for each measure about people: the grain
    cells cannot be summed for this (a person with cases of two kinds, or in two comuni, is one person)."""
    by_type: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        if get_workflow(m.case_type).has_person:
            by_type[m.case_type].append(m)
    people: dict[str, dict[str, int]] = {}
    for case_type, group in by_type.items():
        q = _measure_steps(case_type, group, period).add_columns(
            *(sa.func.count(sa.distinct(sa.case((_measure_condition(m), case_t.c.person_id)))) for m in group))
        rows = by_key(conn, q, _grain_key_sql(by, case_type, period.year))
        for k, m in enumerate(group):
            people[m.code] = {key: figures[k] for key, figures in rows}
    return people


def _grain_key_sql(by: str, case_type: str, year: int):
    """`_key` as a SQL expression over a case type's grain (FNA measure and age band where the grain has them)."""
    misura, nato = (_unlabel(c) for c in _grain(case_type)[3:5])
    if by == "misura" and not isinstance(misura, sa.sql.elements.Null):
        return sa.func.coalesce(misura, "—")
    if by == "fascia_eta" and not isinstance(nato, sa.sql.elements.Null):
        age = sa.literal(year) - nato
        return sa.case(*((age.between(low, high), label) for low, high, label in AGE_BANDS), else_="—")
    return key_sql(by)


def _key(row: Any, by: str, names: dict[str, str], year: int) -> str:
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


def _indicator(m: Measure, rows: list[Any], people: dict[str, int] | None, by: str, names, settings: TallySettings,
               period: Period) -> dict:
    """`people`: the distinct people per key (None: the measure is not about people, never hidden)."""
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for r in rows:
        g = groups[_key(r, by, names, period.year)]
        g[0] += r.rows
        g[1] += r.people
        g[2] += float(r.total)
        g[3] += r.valued
    total = [sum(g[i] for g in groups.values()) for i in range(4)]
    if people is not None:  # the distinct people, not the sum of the grain cells' ones
        for key, g in [*groups.items(), ("totale", total)]:
            g[1] = people.get(key, g[1])
    of = lambda g: cell(_value(m, g), g[1] if people is not None else None, settings.threshold)  # noqa: E731
    lines = suppress_complements([{"chiave": k, **of(g)} for k, g in sorted(groups.items())], of(total))
    return {
        "codice": m.code, "etichetta": m.label, "gruppo": m.group, "tipo_caso": m.case_type, "unita": m.unit,
        "totale": of(total), "righe": lines,
        "obiettivo": _target(m.code, of(total), m.cumulative, settings, period),
    }


def _value(m: Measure, g: list[float]) -> float:
    if m.agg is Agg.SUM:
        return round(g[2], 2)
    if m.agg is Agg.MEAN:
        return round(g[2] / g[3], 4) if g[3] else None
    if m.agg is Agg.CASES:
        return g[1]
    return g[0]


def _target(code: str, total: dict, cumulative: bool, settings: TallySettings, period: Period) -> dict | None:
    target = settings.targets_for(period.year).get(code)
    if target is None:
        return None
    value = total["valore"]
    projection = round(value / period.elapsed_share, 1) if value is not None and cumulative else value
    return {"min": target.low, "max": target.high, "fonte": target.source,
            "esito": target_status(value, target.low, target.high),
            "proiezione_fine_anno": projection, "esito_proiezione": target_status(projection, target.low, target.high)}


def _ratio(r, by_code: dict[str, dict], settings: TallySettings, period: Period) -> dict:
    num, den = by_code[r.numerator], by_code[r.denominator]

    def combine(a: dict | None, b: dict | None) -> dict:
        a = a or {"valore": 0, "n": 0, "soppresso": False}  # no row in the numerator: none of them
        if not b or b["soppresso"] or a["soppresso"]:  # hiding either part hides the ratio
            return {"valore": None, "n": None, "soppresso": bool(b) and (b["soppresso"] or a["soppresso"])}
        if not b["valore"] or a["valore"] is None:
            return {"valore": None, "n": b["n"], "soppresso": False}
        return {"valore": round(r.scale * a["valore"] / b["valore"], 1), "n": b["n"], "soppresso": False}

    num_lines = {line["chiave"]: line for line in num["righe"]}
    lines = [{"chiave": line["chiave"], **combine(num_lines.get(line["chiave"]), line)} for line in den["righe"]]
    if get_workflow(den["tipo_caso"]).district_level and not get_workflow(num["tipo_caso"]).district_level:
        lines = []  # a district-wide denominator (a call's budget) has no per-area share
    total = combine(num["totale"], den["totale"])
    return {
        "codice": r.code, "etichetta": r.label, "gruppo": r.group, "tipo_caso": num["tipo_caso"], "unita": r.unit,
        "totale": total, "righe": lines, "obiettivo": _target(r.code, total, False, settings, period),
    }


# ------------------------------------------------------------------------------------ intervals


def _suspended_states(case_type: str) -> set[str]:
    return {s.name for s in get_workflow(case_type).states if s.suspended}


def _interval(conn: Connection, iv: Interval, period: Period, by: str, names, threshold: int) -> dict[str, Any]:
    suspended = _suspended_states(iv.case_type)
    if conn.dialect.name == "postgresql" and _sql_closes_suspensions(iv):
        measured = _interval_cells_sql(conn, iv, suspended, period, by)
    else:
        measured = _interval_cells(conn, iv, suspended, period, by, names)
    personal = get_workflow(iv.case_type).has_person

    def stats(n: int, people: int, median: float | None, p90: float | None) -> dict[str, Any]:
        """A median over fewer people than the threshold would be their own figures, however many cases: hidden."""
        if personal and 0 < people < threshold:
            return {"casi": None, "mediana": None, "p90": None, "soppresso": True}
        return {"casi": n, "mediana": median, "p90": p90, "soppresso": False}

    return {"codice": iv.code, "etichetta": iv.label, "gruppo": iv.group, "unita": "giorni",
            "lordo": {k: stats(c[0], c[5], c[1], c[2]) for k, c in sorted(measured.items())},
            "netto_sospensioni": {k: stats(c[0], c[5], c[3], c[4]) for k, c in sorted(measured.items())}}


def _interval_rows_where(iv: Interval, suspended: set[str], period: Period) -> list[Any]:
    """The steps an interval needs: its start and end steps and the steps entering or leaving a suspended state.
    A step in between that neither enters nor leaves a suspension changes nothing (the history is gapless up
    to the as-of day: effective and recording times never go back, so `from_state` is the previous step's
    `to_state`)."""
    steps = transition_t.c.transition.in_(iv.start + iv.end)
    if suspended:
        steps = sa.or_(steps, transition_t.c.to_state.in_(suspended), transition_t.c.from_state.in_(suspended))
    return [case_t.c.case_type == iv.case_type, transition_t.c.effective_on <= period.end,
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


def _rereferrals(conn: Connection, ct, rr, period: Period, by: str, names, threshold: int) -> dict[str, Any]:
    """`rr.transition` steps of a case type (e.g. referrals for a patto) in the period, of people who had one in
    the `rr.days` before: each step is paired with the person's previous one in SQL (lag), and only those with
    one come back."""
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(
        partition_by=case_t.c.person_id, order_by=(transition_t.c.effective_on, transition_t.c.case_id))
    referrals = (
        sa.select(case_t.c.person_id, transition_t.c.effective_on, previous.label("previous"), case_t.c.comune_istat,
                  comune_t.c.sub_ambito, case_t.c.kind, case_t.c.provider_codice, sa.null().label("misura"),
                  sa.null().label("nato"))
        .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(case_t.c.case_type == ct.case_type, transition_t.c.transition == rr.transition,
               transition_t.c.effective_on >= period.start - timedelta(days=rr.days),
               transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before)
        .subquery()
    )
    rows = conn.execute(sa.select(referrals).where(referrals.c.previous.is_not(None),
                                                   referrals.c.effective_on >= period.start)).all()
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
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(partition_by=transition_t.c.case_id,
                                                             order_by=transition_t.c.seq)
    steps = (sa.select(case_t.c.case_type, transition_t.c.from_state, transition_t.c.to_state,
                       transition_t.c.effective_on, previous.label("previous"), case_t.c.person_id)
             .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id))
             .where(transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before)
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


# ------------------------------------------------------------------------------------ snapshots


SNAPSHOT_BREAKDOWNS = ("sub_ambito", "comune", "type")


def snapshot_body(engine: Engine, as_of: date) -> dict[str, Any]:
    return {by: compute_tallies(engine, year=as_of.year, as_of=as_of, by=by) for by in SNAPSHOT_BREAKDOWNS}


def materialise(engine: Engine, *, as_of: date) -> dict[str, Any]:
    """Store the day's tallies (replacing a run of the same day): reading them afterwards is instant."""
    body = snapshot_body(engine, as_of)
    with writing(engine) as conn:
        snapshots.replace(conn, as_of, body)
    return body


def read_snapshot(engine: Engine, *, as_of: date) -> dict[str, Any] | None:
    return snapshots.body(engine, as_of)
