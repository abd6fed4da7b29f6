"""Indicators computed from the transition history, as of any date, with targets and small-cell suppression.

As of a day D: only steps effective on or before D *and recorded* by the end of D count, so recomputing a past
date gives the numbers the daily run of that day stored. One aggregate query per case type computes all its
indicators at the finest grain (comune, kind, FNA measure, birth year, provider); roll-ups to the requested breakdown
happen in Python. Intervals (median and p90 of days between two steps) are computed per case in SQL with
percentile_cont on PostgreSQL, in Python elsewhere.
"""
from __future__ import annotations

from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from config.tally_files import TallySettings, load_tally_settings
from domain.indicators import INTERVALS, MEASURES, RATIOS, Agg, Interval, Measure, age_band, percentile, target_status
from domain.italian import ROME
from domain.registry import all_workflows, get_workflow
from store.tables import Comune, case_t, deadline_t, person_t, tally_snapshot_t, transition_t

BY = ("sub_ambito", "comune", "type", "totale", "misura", "fascia_eta", "ente")
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


def compute_tallies(engine: Engine, *, year: int, as_of: date | None = None, by: str = "sub_ambito",
                    settings: TallySettings | None = None) -> dict[str, Any]:
    if by not in BY:
        raise ValueError(f"--by: valore non ammesso «{by}» (scegliere tra {', '.join(BY)})")
    settings = settings or load_tally_settings()
    period = Period(year, as_of or min(date.today(), date(year, 12, 31)))
    with engine.connect() as conn:
        names = dict(conn.execute(sa.select(comune_t.c.istat, comune_t.c.nome)).all())
        cells = _measure_cells(conn, MEASURES, period)
        indicators = [_indicator(m, cells[m.code], by, names, settings, period) for m in MEASURES]
        indicators.append(_rereferrals(conn, period, by, names, settings.threshold))
        by_code = {i["codice"]: i for i in indicators}
        indicators += [_ratio(r, by_code, settings, period) for r in RATIOS]
        intervals = [_interval(conn, iv, period, by, names, settings.threshold) for iv in INTERVALS]
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
    misura = case_t.c.data["misura"].as_string() if case_type == "fna_domanda" else sa.null()
    return [case_t.c.comune_istat, comune_t.c.sub_ambito, case_t.c.kind, misura.label("misura"),
            (birth_year if case_type == "fna_domanda" else sa.null()).label("nato"),
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
        steps = sorted({name for m in group for name in m.transitions})
        q = (
            sa.select(*grain, *columns)
            .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                         .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat)
                         .outerjoin(person_t, person_t.c.id == case_t.c.person_id))
            .where(transition_t.c.transition.in_(steps), case_t.c.case_type == case_type,
                   transition_t.c.effective_on >= period.start, transition_t.c.effective_on <= period.end,
                   transition_t.c.recorded_at < period.recorded_before)
            .group_by(*(c for c in grain if not isinstance(_unlabel(c), sa.sql.elements.Null)))
        )
        rows = conn.execute(q).all()
        for k, m in enumerate(group):
            at = len(grain) + 4 * k
            cells[m.code] = [_Cell(*r[:len(grain)], *r[at:at + 4]) for r in rows if r[at]]
    return cells


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


def _indicator(m: Measure, rows: list[Any], by: str, names, settings: TallySettings, period: Period) -> dict:
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for r in rows:
        g = groups[_key(r, by, names, period.year)]
        g[0] += r.rows
        g[1] += r.people
        g[2] += float(r.total)
        g[3] += r.valued
    total = [sum(g[i] for g in groups.values()) for i in range(4)]
    personal = get_workflow(m.case_type).has_person  # calls and provider adhesions are not people: never hidden
    cell = lambda g: _cell(_value(m, g), g[1] if personal else None, settings.threshold)  # noqa: E731
    lines = _suppress_complements([{"chiave": k, **cell(g)} for k, g in sorted(groups.items())], cell(total))
    return {
        "codice": m.code, "etichetta": m.label, "gruppo": m.group, "tipo_caso": m.case_type, "unita": m.unit,
        "totale": cell(total), "righe": lines,
        "obiettivo": _target(m.code, cell(total), m.cumulative, settings, period),
    }


def _value(m: Measure, g: list[float]) -> float:
    if m.agg is Agg.SUM:
        return round(g[2], 2)
    if m.agg is Agg.MEAN:
        return round(g[2] / g[3], 4) if g[3] else None
    if m.agg is Agg.CASES:
        return g[1]
    return g[0]


def _cell(value: Any, people: int | None, threshold: int) -> dict[str, Any]:
    """`people`: how many people the cell is about (None: not about people, never hidden)."""
    hidden = people is not None and 0 < people < threshold
    return {"valore": None if hidden else value, "n": None if hidden else people, "soppresso": hidden}


def _suppress_complements(lines: list[dict], total: dict) -> list[dict]:
    """A single hidden cell could be recovered from the total: hide the smallest visible one too."""
    hidden = [line for line in lines if line["soppresso"]]
    visible = [line for line in lines if not line["soppresso"] and line["n"]]
    if len(hidden) == 1 and not total["soppresso"] and visible:
        smallest = min(visible, key=lambda line: line["n"])
        smallest.update(valore=None, n=None, soppresso=True)
    return lines


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

    def stats(n: int, median: float | None, p90: float | None) -> dict[str, Any]:
        """A median over fewer people than the threshold would be their own figures: hidden."""
        if personal and 0 < n < threshold:
            return {"casi": None, "mediana": None, "p90": None, "soppresso": True}
        return {"casi": n, "mediana": median, "p90": p90, "soppresso": False}

    return {"codice": iv.code, "etichetta": iv.label, "gruppo": iv.group, "unita": "giorni",
            "lordo": {k: stats(c[0], c[1], c[2]) for k, c in sorted(measured.items())},
            "netto_sospensioni": {k: stats(c[0], c[3], c[4]) for k, c in sorted(measured.items())}}


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
    """Portable path: the steps into Python, one case at a time; median and p90 per key."""
    rows = conn.execute(
        sa.select(transition_t.c.case_id, transition_t.c.seq, transition_t.c.transition, transition_t.c.to_state,
                  transition_t.c.effective_on, case_t.c.comune_istat, comune_t.c.sub_ambito, case_t.c.kind,
                  case_t.c.provider_codice, sa.null().label("misura"), sa.null().label("nato"))
        .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(*_interval_rows_where(iv, suspended, period))
        .order_by(transition_t.c.case_id, transition_t.c.seq)
    ).all()
    gross: dict[str, list[float]] = defaultdict(list)
    net: dict[str, list[float]] = defaultdict(list)
    for case_rows in _by_case(rows):
        measured = _case_interval(case_rows, iv, suspended, period)
        if measured is not None:
            for key in {"totale", _key(case_rows[0], by, names, period.year)}:
                gross[key].append(measured[0])
                net[key].append(measured[1])
    return {k: (len(v), percentile(v, 0.5), percentile(v, 0.9), percentile(net[k], 0.5), percentile(net[k], 0.9))
            for k, v in gross.items()}


def _sql_closes_suspensions(iv: Interval) -> bool:
    """The SQL path counts a suspension from the step entering it to the step leaving it: an end step that
    itself suspends would leave one open (the Python path ignores it): keep such intervals in Python."""
    wf = get_workflow(iv.case_type)
    return not any(wf.state(wf.transition(name).target).suspended for name in iv.end)


def _key_sql(by: str):
    """`_key` for the interval rows (no FNA measure or birth year on them), as a SQL expression."""
    return {
        "sub_ambito": sa.func.coalesce(comune_t.c.sub_ambito, DISTRICT),
        "comune": sa.func.coalesce(comune_t.c.nome, DISTRICT),
        "type": sa.func.coalesce(case_t.c.kind, "—"),
        "misura": sa.literal("—"),
        "fascia_eta": sa.literal("—"),
        "ente": sa.func.coalesce(case_t.c.provider_codice, "—"),
    }.get(by)


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
    key = _key_sql(by)
    figures = [sa.func.count().label("n"),
               sa.func.percentile_cont(0.5).within_group(gross), sa.func.percentile_cont(0.9).within_group(gross),
               sa.func.percentile_cont(0.5).within_group(net), sa.func.percentile_cont(0.9).within_group(net)]
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
            cells[k] = (row.n, *(None if v is None else float(v) for v in row[-4:]))
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


def _rereferrals(conn: Connection, period: Period, by: str, names, threshold: int) -> dict[str, Any]:
    """Referrals for a patto, in the period, of people already referred for one in the 365 days before: each
    referral is paired with the person's previous one in SQL (lag), and only those with one come back."""
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(
        partition_by=case_t.c.person_id, order_by=(transition_t.c.effective_on, transition_t.c.case_id))
    referrals = (
        sa.select(case_t.c.person_id, transition_t.c.effective_on, previous.label("previous"), case_t.c.comune_istat,
                  comune_t.c.sub_ambito, case_t.c.kind, case_t.c.provider_codice, sa.null().label("misura"),
                  sa.null().label("nato"))
        .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(case_t.c.case_type == "patto", transition_t.c.transition == "segnala",
               transition_t.c.effective_on >= period.start - timedelta(days=365),
               transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before)
        .subquery()
    )
    rows = conn.execute(sa.select(referrals).where(referrals.c.previous.is_not(None),
                                                   referrals.c.effective_on >= period.start)).all()
    groups: dict[str, list] = defaultdict(lambda: [0, set()])
    for r in rows:
        if (r.effective_on - r.previous).days <= 365:
            for key in {"totale", _key(r, by, names, period.year)}:
                groups[key][0] += 1
                groups[key][1].add(r.person_id)
    cells = {k: _cell(g[0], len(g[1]), threshold) for k, g in groups.items()}
    total = cells.pop("totale", _cell(0, 0, threshold))
    return {"codice": "patti_risegnalazioni_12m", "etichetta": "Nuove segnalazioni entro 12 mesi dalla precedente",
            "gruppo": "patti", "tipo_caso": "patto", "unita": "n", "totale": total,
            "righe": _suppress_complements([{"chiave": k, **c} for k, c in sorted(cells.items())], total),
            "obiettivo": None}


def _state_intervals(conn: Connection, period: Period, threshold: int) -> list[dict[str, Any]]:
    """Median and p90 of the days spent between every pair of consecutive states, per case type: the steps taken in
    the period, measured from the previous step of the same case (a suspended state's own time is the suspension)."""
    previous = sa.func.lag(transition_t.c.effective_on, type_=sa.Date()).over(partition_by=transition_t.c.case_id,
                                                             order_by=transition_t.c.seq)
    steps = (sa.select(case_t.c.case_type, transition_t.c.from_state, transition_t.c.to_state,
                       transition_t.c.effective_on, previous.label("previous"))
             .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id))
             .where(transition_t.c.effective_on <= period.end, transition_t.c.recorded_at < period.recorded_before)
             .subquery())
    keys = (steps.c.case_type, steps.c.from_state, steps.c.to_state)
    where = (steps.c.previous.isnot(None), steps.c.effective_on >= period.start)
    measured: dict[tuple, tuple] = {}
    if conn.dialect.name == "postgresql":
        days = steps.c.effective_on - steps.c.previous
        q = (sa.select(*keys, sa.func.count(), sa.func.percentile_cont(0.5).within_group(days),
                       sa.func.percentile_cont(0.9).within_group(days)).where(*where).group_by(*keys))
        measured = {tuple(r[:3]): (r[3], float(r[4]), float(r[5])) for r in conn.execute(q)}
    else:
        values: dict[tuple, list[float]] = defaultdict(list)
        for r in conn.execute(sa.select(*keys, steps.c.effective_on, steps.c.previous).where(*where)):
            values[tuple(r[:3])].append(float((r.effective_on - r.previous).days))
        measured = {k: (len(v), percentile(v, 0.5), percentile(v, 0.9)) for k, v in values.items()}
    result = []
    for (case_type, source, target), (n, median, p90) in sorted(measured.items(), key=lambda kv: tuple(map(str, kv[0]))):
        wf = get_workflow(case_type)
        hidden = wf.has_person and 0 < n < threshold
        result.append({
            "tipo_caso": case_type, "da": source, "a": target,
            "da_etichetta": wf.state(source).label, "a_etichetta": wf.state(target).label,
            "da_sospeso": wf.state(source).suspended, "casi": None if hidden else n,
            "mediana": None if hidden else median, "p90": None if hidden else p90, "soppresso": hidden,
        })
    return result


# ------------------------------------------------------------------------------------ deadlines and backlog


def _deadlines_met(conn: Connection, period: Period, by: str, names, threshold: int) -> list[dict[str, Any]]:
    started = transition_t.alias("started")
    closed_by = deadline_t.c.closed_on <= period.as_of
    on_time = sa.and_(deadline_t.c.status == "met", deadline_t.c.closed_on <= deadline_t.c.due, closed_by)
    rows = conn.execute(
        sa.select(deadline_t.c.source, deadline_t.c.kind.label("deadline_kind"), case_t.c.case_type,
                  case_t.c.comune_istat,
                  comune_t.c.sub_ambito,
                  case_t.c.kind, case_t.c.provider_codice, sa.null().label("misura"), sa.null().label("nato"),
                  sa.func.count().label("total"), sa.func.sum(sa.case((on_time, 1), else_=0)).label("on_time"))
        .select_from(deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id)
                     .join(started, sa.and_(started.c.case_id == deadline_t.c.case_id,
                                            started.c.seq == deadline_t.c.started_seq))
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(deadline_t.c.due >= period.start, deadline_t.c.due < period.end,
               started.c.recorded_at < period.recorded_before,
               ~sa.and_(deadline_t.c.status.in_(("cancelled", "expired")), closed_by))
        .group_by(deadline_t.c.source, deadline_t.c.kind, case_t.c.case_type, case_t.c.comune_istat,
                  comune_t.c.sub_ambito, case_t.c.kind, case_t.c.provider_codice)
    ).all()
    result = []
    series = (
        ("scadenze_statutory", "Scadenze normative rispettate", lambda r: r.source == "statutory"),
        ("scadenze_configured", "Scadenze configurate rispettate", lambda r: r.source == "configured"),
        ("sad_revisioni_pai_puntuali", "Revisioni del PAI svolte nei termini",
         lambda r: r.case_type == "sad_caso" and r.deadline_kind == "revisione_pai"),
    )
    for code, label, chosen in series:
        groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in filter(chosen, rows):
            for key in {"totale", _key(r, by, names, period.year)}:
                groups[key][0] += r.total
                groups[key][1] += int(r.on_time or 0)
        cells = {k: _cell(round(100 * g[1] / g[0], 1) if g[0] else None, None if k == DISTRICT else g[0], threshold)
                 for k, g in groups.items()}
        result.append({"codice": code, "etichetta": label, "unita": "pct",
                       "totale": cells.pop("totale", _cell(None, 0, threshold)),
                       "righe": [{"chiave": k, **c} for k, c in sorted(cells.items())]})
    return result


def _backlog(conn: Connection, period: Period, threshold: int) -> list[dict[str, Any]]:
    """Cases per non-terminal state as of the day (from the history, not from the current state)."""
    last = (sa.select(transition_t.c.case_id, sa.func.max(transition_t.c.seq).label("seq"))
            .where(transition_t.c.effective_on <= period.as_of, transition_t.c.recorded_at < period.recorded_before)
            .group_by(transition_t.c.case_id).subquery())
    rows = conn.execute(
        sa.select(case_t.c.case_type, transition_t.c.to_state, sa.func.count().label("n"))
        .select_from(last.join(transition_t, sa.and_(transition_t.c.case_id == last.c.case_id,
                                                     transition_t.c.seq == last.c.seq))
                     .join(case_t, case_t.c.id == last.c.case_id))
        .group_by(case_t.c.case_type, transition_t.c.to_state)
    ).all()
    terminal = {(wf.case_type, s.name) for wf in all_workflows() for s in wf.states if s.terminal}
    personal = {wf.case_type for wf in all_workflows() if wf.has_person}
    return [{"tipo_caso": r.case_type, "stato": r.to_state,
             "stato_etichetta": get_workflow(r.case_type).state(r.to_state).label,
             **_cell(r.n, r.n if r.case_type in personal else None, threshold)}
            for r in sorted(rows, key=lambda r: (r.case_type, r.to_state)) if (r.case_type, r.to_state) not in terminal]


# ------------------------------------------------------------------------------------ snapshots


SNAPSHOT_BREAKDOWNS = ("sub_ambito", "comune", "type")


def snapshot_body(engine: Engine, as_of: date) -> dict[str, Any]:
    return {by: compute_tallies(engine, year=as_of.year, as_of=as_of, by=by) for by in SNAPSHOT_BREAKDOWNS}


def materialise(engine: Engine, *, as_of: date) -> dict[str, Any]:
    """Store the day's tallies (replacing a run of the same day): reading them afterwards is instant."""
    body = snapshot_body(engine, as_of)
    with engine.begin() as conn:
        conn.execute(tally_snapshot_t.delete().where(tally_snapshot_t.c.as_of == as_of))
        conn.execute(tally_snapshot_t.insert(), {"as_of": as_of, "computed_at": datetime.now(timezone.utc),
                                                  "body": body})
    return body


def read_snapshot(engine: Engine, *, as_of: date) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(tally_snapshot_t.c.body).where(tally_snapshot_t.c.as_of == as_of)).scalar()
