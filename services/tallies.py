"""Indicators computed from the transition history, as of any date, with targets and small-cell suppression.

As of a day D: only steps effective on or before D *and recorded* by the end of D count, so recomputing a past
date gives the numbers the daily run of that day stored. One aggregate query per case type computes all its
indicators at the finest grain (comune, kind, FNA measure, birth year, provider); roll-ups to the requested breakdown
happen in Python, except the distinct people of each cell (a second statement per case type, grouped by the
requested key: a person may sit in several grain cells). Every cell is hidden by the people behind it
(services/tally_cells.py); the deadline and backlog tallies are in services/tally_deadlines.py. Intervals
(median and p90 of days between two steps) are computed per case in SQL with percentile_cont on PostgreSQL,
in Python elsewhere. The SQL is store/tallies/'s; here the figures are assembled, hidden and compared with
their targets.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from config.tally_files import TallySettings, load_tally_settings
from domain.indicators import (
    DISTRICT,  # noqa: F401  (re-exported: the dashboard's key of district-wide cases)
    Agg,
    Measure,
    Period,
    all_intervals,
    all_measures,
    all_ratios,
)
from domain.registry import all_case_types, get_workflow
from services.tally_cells import cell, suppress_complements
from services.tally_targets import judged, population_shares, with_area_targets
from services.tally_deadlines import (
    backlog as _backlog,  # module-level names: bench/tallies.py times them
)
from services.tally_deadlines import deadlines_met as _deadlines_met
from services.tally_intervals import _interval, _rereferrals, _state_intervals  # bench/tallies.py times them
from store import reference, snapshots
from store.tallies.keys import key as _key
from store.tallies.measures import measure_cells as _measure_cells  # bench/tallies.py times these two
from store.tallies.measures import measure_people as _measure_people
from store.uow import reading, writing

BY = ("sub_ambito", "comune", "type", "totale", "misura", "fascia_eta", "ente", "distretto", "ente_gestore")


def compute_tallies(engine: Engine, *, year: int, as_of: date | None = None, by: str = "sub_ambito",
                    settings: TallySettings | None = None, ambito: Any = None) -> dict[str, Any]:
    """The year's tallies as of a day: of every case of the instance, or of one Ambito's (`ambito`, a
    domain.conditions.AmbitoScope: the cases whose case_file.ambito_code is its code)."""
    return _compute(engine, year=year, as_of=as_of, bys=(by,), settings=settings, ambito=ambito)[by]


# PostgreSQL: the memory each sort or hash of the tallies may take before spilling to disk (SET LOCAL, the
# tallies' own read only). With the server's default 4 MB an Ambito's history (~1M steps at region size) made
# the bitmap of its steps lossy and its sorts external: Cremasco's tallies by sub-ambito took 14.6 s, 5.9 s with
# this (bench/RESULTS.md, «Region ... h-region3»).
TALLY_WORK_MEM = "64MB"


def _compute(engine: Engine, *, year: int, as_of: date | None, bys: tuple[str, ...],
             settings: TallySettings | None, ambito: Any) -> dict[str, dict[str, Any]]:
    """compute_tallies for several breakdowns in one read: the parts no breakdown changes (the measures' cells at
    the finest grain, the re-referral steps, the backlog, the state-to-state steps) are computed once."""
    for by in bys:
        if by not in BY:
            raise ValueError(f"--by: valore non ammesso «{by}» (scegliere tra {', '.join(BY)})")
    settings = settings or _settings_of(engine, ambito)
    period = Period(year, as_of or min(date.today(), date(year, 12, 31)), ambito)
    out: dict[str, dict[str, Any]] = {}
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{TALLY_WORK_MEM}'")
        measures = all_measures()
        cells = _measure_cells(conn, measures, period)
        rereferral_steps: dict = {}
        backlog = _backlog(conn, period, settings.threshold)
        state_intervals = _state_intervals(conn, period, settings.threshold)
        for by in bys:
            out[by] = _one_breakdown(conn, by, period, settings, measures, cells, rereferral_steps, backlog,
                                     state_intervals)
    return out


def _one_breakdown(conn, by: str, period: Period, settings: TallySettings, measures, cells, rereferral_steps: dict,
                   backlog, state_intervals) -> dict[str, Any]:
    names = reference.comune_keys(conn, by)
    shares = population_shares(reference.comuni(conn)) if by == "sub_ambito" else {}
    people = _measure_people(conn, measures, period, by)
    indicators = [with_area_targets(_indicator(m, cells[m.code], people.get(m.code), by, names, settings, period),
                                    by=by, flow=_is_flow(m), cumulative=m.cumulative, shares=shares,
                                    settings=settings, period=period)
                  for m in measures]
    indicators += [_rereferrals(conn, ct, rr, period, by, names, settings.threshold, steps=rereferral_steps)
                   for ct in all_case_types() for rr in ct.rereferrals]
    by_code = {i["codice"]: i for i in indicators}
    indicators += [with_area_targets(_ratio(r, by_code, settings, period), by=by, flow=False, cumulative=False,
                                     shares=shares, settings=settings, period=period) for r in all_ratios()]
    intervals = [_interval(conn, iv, period, by, names, settings.threshold) for iv in all_intervals()]
    deadlines = _deadlines_met(conn, period, by, names, settings.threshold)
    return {
        "anno": period.year, "al": period.as_of.isoformat(), "per": by, "soglia_riservatezza": settings.threshold,
        "indicatori": indicators, "intervalli": intervals, "scadenze": deadlines, "arretrato": backlog,
        "intervalli_stati": state_intervals,
    }


def _settings_of(engine: Engine, ambito: Any) -> TallySettings:
    """The threshold and targets that apply: the Ambito's own `tallies.toml` when it keeps one, else the
    instance's or the packaged one (config/locate.py); the whole instance's tallies, the instance's."""
    row = reference.district(engine, ambito.code) if ambito is not None else None
    return load_tally_settings(ambito_dir=getattr(row, "source_dir", None))


# ------------------------------------------------------------------------------------ measures


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
    return None if target is None else judged(target, total["valore"], cumulative, period)


def _is_flow(m: Measure) -> bool:
    """A yearly count or sum (apportioned to the sub-ambiti by population), not a mean or a share."""
    return m.cumulative and m.agg is not Agg.MEAN and m.unit not in ("pct", "tasso")


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
    return _compute(engine, year=as_of.year, as_of=as_of, bys=SNAPSHOT_BREAKDOWNS, settings=None, ambito=None)


def materialise(engine: Engine, *, as_of: date, ambito: str | None = None) -> dict[str, Any]:
    """Store the day's tallies (replacing a run of the same day): reading them afterwards is instant. With
    `ambito` (its code): that Ambito's cases with its own tallies.toml, stored apart (ambito_tally_snapshot)."""
    if ambito is None:
        body = snapshot_body(engine, as_of)
        with writing(engine) as conn:
            snapshots.replace(conn, as_of, body)
        return body
    from services.sweep import ambito_dir_of, ambito_scope_of

    scope, settings = ambito_scope_of(engine, ambito), load_tally_settings(ambito_dir=ambito_dir_of(engine, ambito))
    body = _compute(engine, year=as_of.year, as_of=as_of, bys=SNAPSHOT_BREAKDOWNS, settings=settings, ambito=scope)
    with writing(engine) as conn:
        snapshots.replace_ambito(conn, ambito, as_of, body)
    return body


def read_snapshot(engine: Engine, *, as_of: date, ambito: str | None = None) -> dict[str, Any] | None:
    return snapshots.body(engine, as_of) if ambito is None else snapshots.ambito_body(engine, ambito, as_of)
