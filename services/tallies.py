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
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from config.tally_files import TallySettings, load_tally_settings
from domain.indicators import (
    AGE_BANDS,
    Agg,
    Measure,
    all_intervals,
    all_measures,
    all_ratios,
    target_status,
)
from domain.registry import all_case_types, get_case_type, get_workflow
from services.tally_cells import (
    Period,
    by_key,
    cell,
    comune_t,
    key_sql,
    suppress_complements,
)
from services.tally_cells import DISTRICT  # noqa: E402,F401  (re-exported)
from services.tally_cells import key as _key  # noqa: E402
from services.tally_deadlines import (
    backlog as _backlog,  # module-level names: bench/tallies.py times them
)
from services.tally_deadlines import deadlines_met as _deadlines_met
from services.tally_intervals import (  # noqa: E402,F401  (module-level names: bench/tallies.py times them)
    _case_interval,
    _interval,
    _interval_cells,
    _interval_cells_sql,
    _rereferrals,
    _state_intervals,
    _suspended_states,
)
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
