"""All the yearly indicators over 1M cases and ~5M audit rows on PostgreSQL: compute_tallies vs raw SQL.

    python -m bench.tallies [--cases 1000000] [--rounds 3] [--profile DIR] [--explain] [--tallies-src DIR]
                            [--keep] [--reuse] [--no-record] [--label TEXT]

Data set (not timed), in a fresh database (`--pg-url`, default legami_bench_tallies, dropped and created):
`init_database`, then N cases loaded with COPY through psycopg (four connections, one COPY stream per table,
foreign-key triggers off while loading since the rows are generated consistently), then VACUUM (ANALYZE) and
a CHECKPOINT. Every case walks a path of its declared workflow (each step's from/to states checked against
the declaration for the first cases), all steps effective in 2026 up to the as-of day (20 November 2026),
recorded minutes to hours later but before the as-of cut-off, `effective_on` set:

* patto (40%): segnala, assegna, avvia_redazione {tipologia}, attiva {canale, misura_economica, ...},
  registra_monitoraggio {ore_reciprocita, importo_erogato} every 45-75 days, sospendi/riprendi, avvia_verifica
  and chiudi {esito, tasso_realizzazione}, or archivia / non_ammette / rinuncia / interrompi on the way;
* sad_caso (30%): segnala, valuta, redigi_pai, scegli_ente (sets the provider), emetti_voucher {ore_mensili,
  quota_utente} (the case's data carries the voucher's ore_mensili), prima_visita {ore}, registra_visite {ore}
  monthly, cambia_ente (new voucher, new first visit), sospendi/riprendi, avvia_revisione, avvia_verifica,
  chiudi, or the early exits;
* fna_domanda (30%, case data {misura}): presenta in one of two call windows, istruttoria (with soccorso
  istruttorio), valutazione, ammetti (or preavviso_rigetto -> rigetta / accogli_osservazioni), finanzia
  {importo_annuo} / non_finanzia (some funded later), firma_piano, avvia_erogazione, registra_pagamento
  {importo} every three months, sospendi/riprendi, decadenza, rinuncia;
* fna_bando (2 calls): crea, approva {budget}, apri, chiudi, graduatorie, avvia_erogazioni;
* sad_adesione (one per provider): invita, rispondi / declina, firma, attiva.

The comune is drawn by population over the 48 comuni; one person per personal case (birth dates by case type;
about 5% of patti are a second patto of the same person); deadlines from the declared rules of the steps
taken (met by a later step, cancelled by a terminal one, paused while suspended, expired, or open), thinned to
about 1.5 per case.

Then each variant runs in its OWN fresh subprocess (started by a small launcher forked before the parent
loads anything, so that ru_maxrss is the child's own), best of --rounds, alternating which goes first:

* tallies: `services.tallies.compute_tallies(engine, year=2026, as_of=2026-11-20, by="sub_ambito")`: every
  declared indicator, the re-referrals, the ratios, the intervals, the deadlines met, the backlog and the
  state-to-state steps;
* raw:     the same figures as hand-written SQL through psycopg 3 (one statement per indicator, per
  interval, for the deadlines and for the backlog), the SQL written out by the parent from the same
  declarations (each case type's, read through domain.indicators and domain.registry) and run by the child
  with no project import: each indicator grouped by the key with ROLLUP, its n the distinct people behind
  each cell and behind the total (count(DISTINCT person_id), as compute_tallies counts them), the intervals per case with window functions and FILTER over the start and end steps and the steps
  entering or leaving a suspended state (first start, first later end, the suspended days in between) and
  percentile_cont, the re-referrals with lag() over the person, the deadline series in one statement with
  FILTER and ROLLUP, the backlog with DISTINCT ON, the state-to-state steps with lag() over the case and
  percentile_cont (the parts services/tallies.py has: the plan follows it). Every cell is hidden by the
  distinct people behind it, never by steps, cases or deadlines: each statement also returns
  count(DISTINCT person_id) per key (deadline series, intervals, backlog rows, state-to-state steps
  included); cases of types with no person (calls, provider adhesions) are never hidden. Small-cell
  suppression, the complementary suppression (a single hidden line hides the smallest visible one too),
  ratios and the cell rounding are done in Python on the few dozen rows returned.

The generator makes no Bonus Famiglia cases: its declared indicators and intervals are computed by both
variants over no rows (0, or no value for means and intervals) and must agree as such.

The run checks itself: every number (each indicator's total and rows: value, n, suppressed; the ratios;
every interval cell: cases, median, p90 gross and net; the deadlines; the backlog; the state-to-state steps)
must agree between the two variants (floats to 1e-9 relative, values rounded to the cent or to 4 decimals
within one rounding step), and between rounds. Time is perf_counter inside the child around the work only
(connecting included, imports not); the child also reports the time per part (indicators, re-referrals, each
interval, deadlines, backlog, state steps) and its peak RSS. Figures and the command are
appended to bench/RESULTS.md unless --no-record.

`--profile DIR` runs one more tallies child under cProfile; `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of
one indicator query and of one interval query of this repository's compute_tallies; `--tallies-src DIR` runs
the tallies child against another source tree (a scratch copy with a prototype change: its services/, domain/
etc. first on sys.path; the child's own code is this file). `--keep` keeps the database and `--reuse` skips
loading when the kept database was loaded with the same parameters.
"""
from __future__ import annotations

import time

T_MODULE = time.perf_counter()  # the child's import time counts from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from statistics import median  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.common import (  # noqa: E402
    Launcher,
    cpu_and_memory,
    default_ambito,
    loadavg,
    loaded_dataset,
    mb,
    recreate_database,
    save_meta,
    slug,
    vm_hwm_mb,
)

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "RESULTS.md"
DEFAULT_PG_URL = os.environ.get("LEGAMI_BENCH_TALLIES_PG_URL",
                                "postgresql://postgres@127.0.0.1:5432/legami_bench_tallies")
GOAL = 1.5  # compute_tallies time / raw time
YEAR = 2026
AS_OF = date(2026, 11, 20)
BY = "sub_ambito"
DISTRICT = "distretto"  # services.tallies.DISTRICT (checked by the parent)
SEED = 20261120
UTC = timezone.utc
META_TABLE = "bench_tallies_meta"  # marks a kept database as loaded (--keep / --reuse)
SHARES = {"patto": 0.40, "sad_caso": 0.30, "fna_domanda": 0.30}
FNA_FIRST_CALL = 0.5  # share of the applications to the first of the two calls
OPENING_SKEW = 0.35  # openings: day = span * U ** skew (more cases later in the year, as the service is known)


# ====================================================================== children (one variant each)


def child_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.tallies child")
    ap.add_argument("variant", choices=("tallies", "raw"))
    ap.add_argument("--url", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--profile")
    args = ap.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text())
    out = (child_tallies if args.variant == "tallies" else child_raw)(args.url, plan, args.profile)
    out["peak_rss_mb"] = round(mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1)
    out["vm_hwm_mb"] = round(vm_hwm_mb(), 1)
    print("RESULT " + json.dumps(out), flush=True)
    return 0


def normalise(result: dict) -> dict:
    """compute_tallies' answer reduced to its numbers: what both variants must agree on."""
    def cell(c: dict) -> list:
        return [c["valore"], c["n"], c["soppresso"]]

    def stats(s: dict) -> list:
        return [s["casi"], s["mediana"], s["p90"], s["soppresso"]]

    return {
        "indicatori": {i["codice"]: {"totale": cell(i["totale"]),
                                     "righe": {r["chiave"]: cell(r) for r in i["righe"]}}
                       for i in result["indicatori"]},
        "intervalli": {i["codice"]: {"lordo": {k: stats(v) for k, v in i["lordo"].items()},
                                     "netto": {k: stats(v) for k, v in i["netto_sospensioni"].items()}}
                       for i in result["intervalli"]},
        "scadenze": {s["codice"]: {"totale": cell(s["totale"]), "righe": {r["chiave"]: cell(r) for r in s["righe"]}}
                     for s in result["scadenze"]},
        "arretrato": {f"{b['tipo_caso']}:{b['stato']}": [b["valore"], b["n"], b["soppresso"]]
                      for b in result["arretrato"]},
        **({"intervalli_stati": {f"{s['tipo_caso']}:{s['da']}:{s['a']}": [s["casi"], s["mediana"], s["p90"],
                                                                           s["soppresso"]]
                                 for s in result["intervalli_stati"]}} if "intervalli_stati" in result else {}),
    }


def child_tallies(url: str, plan: dict, profile: str | None) -> dict:
    import services.tallies as tallies_mod
    from store.db import make_engine

    t_imported = time.perf_counter()
    rss_imported = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    parts: dict[str, float] = {}

    def timed(name: str, fn, label):  # time every call of a module-level helper, by part
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                key = label(a)
                parts[key] = parts.get(key, 0.0) + time.perf_counter() - t
        return wrapper

    for name, label in (("_measure_cells", lambda a: "indicators"), ("_measure_people", lambda a: "people"), ("_rereferrals", lambda a: "re-referrals"),
                        ("_interval", lambda a: f"interval {a[1].code}"), ("_deadlines_met", lambda a: "deadlines"),
                        ("_backlog", lambda a: "backlog"), ("_state_intervals", lambda a: "state steps")):
        if hasattr(tallies_mod, name):
            setattr(tallies_mod, name, timed(name, getattr(tallies_mod, name), label))
    engine = make_engine(url)
    as_of = date.fromisoformat(plan["as_of"])
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    result = tallies_mod.compute_tallies(engine, year=plan["year"], as_of=as_of, by=plan["by"])
    seconds = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    engine.dispose()
    return {"variant": "tallies", "source": str(Path(tallies_mod.__file__).resolve().parent.parent),
            "import_s": round(t_imported - T_MODULE, 3), "rss_after_import_mb": round(rss_imported, 1),
            "seconds": seconds, "parts": parts, "figures": normalise(json.loads(json.dumps(result, default=str)))}


# --- the raw lower bound: hand-written SQL through psycopg, the plan's statements


def child_raw(url: str, plan: dict, profile: str | None) -> dict:
    from collections import defaultdict

    import psycopg

    t_imported = time.perf_counter()
    rss_imported = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    threshold = plan["threshold"]
    params = {"start": date.fromisoformat(plan["start"]), "end": date.fromisoformat(plan["end"]),
              "as_of": date.fromisoformat(plan["as_of"]), "cut": datetime.fromisoformat(plan["cut"])}
    parts: dict[str, float] = {}

    def cell(value, people):
        """services.tallies._cell: `people` None for figures not about people (never hidden)."""
        hidden = people is not None and 0 < people < threshold
        return [None if hidden else value, None if hidden else people, hidden]

    def complements(lines: dict[str, list], total: list) -> dict[str, list]:
        hidden = [k for k, c in lines.items() if c[2]]
        visible = [k for k, c in lines.items() if not c[2] and c[1]]
        if len(hidden) == 1 and not total[2] and visible:
            smallest = min(visible, key=lambda k: (lines[k][1], k))
            lines[smallest] = [None, None, True]
        return lines

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    indicators: dict[str, dict] = {}
    intervals: dict[str, dict] = {}
    with psycopg.connect(url) as conn:
        t = time.perf_counter()
        for m in plan["measures"]:
            lines, total = {}, None
            for key, rows, people, tot, valued in conn.execute(m["sql"], params):
                if not rows:  # ROLLUP over no rows still gives its grand-total row
                    continue
                value = (rows if m["agg"] == "count" else people if m["agg"] == "cases"
                         else round(tot, 2) if m["agg"] == "sum" else round(tot / valued, 4) if valued else None)
                c = cell(value, people if m["personal"] else None)
                if key is None:
                    total = c
                else:
                    lines[key] = c
            total = total or cell(0 if m["agg"] in ("count", "cases") else 0.0 if m["agg"] == "sum" else None,
                                  0 if m["personal"] else None)
            indicators[m["code"]] = {"totale": total, "righe": complements(dict(sorted(lines.items())), total)}
        parts["indicators"] = time.perf_counter() - t
        t = time.perf_counter()
        for rr in plan["rereferrals"]:
            lines, total = {}, cell(0, 0)
            for key, n, people in conn.execute(rr["sql"], params):
                if not n:
                    continue
                if key is None:
                    total = cell(n, people)
                else:
                    lines[key] = cell(n, people)
            indicators[rr["code"]] = {"totale": total, "righe": complements(dict(sorted(lines.items())), total)}
        parts["re-referrals"] = time.perf_counter() - t
        for iv in plan["intervals"]:
            t = time.perf_counter()
            gross, net = {}, {}
            for key, n, g50, g90, n50, n90, people in conn.execute(iv["sql"], params):
                if not n:
                    continue
                key = "totale" if key is None else key
                hidden = iv["personal"] and 0 < people < threshold  # by the people, however many cases
                gross[key] = [None, None, None, True] if hidden else [n, g50, g90, False]
                net[key] = [None, None, None, True] if hidden else [n, n50, n90, False]
            intervals[iv["code"]] = {"lordo": dict(sorted(gross.items())), "netto": dict(sorted(net.items()))}
            parts[f"interval {iv['code']}"] = time.perf_counter() - t
        t = time.perf_counter()
        series = plan["deadline_series"]
        groups: dict[str, dict[str, list]] = defaultdict(dict)
        for key, *counts in conn.execute(plan["deadlines_sql"], params):
            for k, code in enumerate(series):
                if counts[3 * k]:  # a key with no deadline of the series is no row of it
                    groups[code]["totale" if key is None else key] = counts[3 * k:3 * k + 3]
        deadlines = {}
        for code in series:  # hidden by the people the deadlines are about; no person (calls): never hidden
            cells = {k: cell(round(100 * g[1] / g[0], 1), g[2] or None) for k, g in groups[code].items()}
            total = cells.pop("totale", cell(None, 0))
            deadlines[code] = {"totale": total, "righe": complements(dict(sorted(cells.items())), total)}
        parts["deadlines"] = time.perf_counter() - t
        t = time.perf_counter()
        terminal = {tuple(x) for x in plan["terminal"]}
        backlog = {f"{ct}:{st}": cell(n, people if ct in plan["personal_types"] else None)
                   for ct, st, n, people in sorted(conn.execute(plan["backlog_sql"], params).fetchall())
                   if (ct, st) not in terminal}
        parts["backlog"] = time.perf_counter() - t
        state_steps = None
        if plan.get("state_intervals_sql"):
            t = time.perf_counter()
            personal = set(plan["personal_types"])
            state_steps = {}
            for ct, source, target, n, median, p90, people in conn.execute(plan["state_intervals_sql"], params):
                hidden = ct in personal and 0 < people < threshold
                state_steps[f"{ct}:{source}:{target}"] = ([None, None, None, True] if hidden
                                                          else [n, float(median), float(p90), False])
            parts["state steps"] = time.perf_counter() - t
    for r in plan["ratios"]:  # derived from two indicators, as services.tallies._ratio does
        num, den = indicators[r["numerator"]], indicators[r["denominator"]]

        def combine(a, b):
            a = a or [0, 0, False]
            if not b or b[2] or a[2]:
                return [None, None, bool(b) and (b[2] or a[2])]
            if not b[0] or a[0] is None:
                return [None, b[1], False]
            return [round(r["scale"] * a[0] / b[0], 1), b[1], False]

        lines = {} if r["no_lines"] else {k: combine(num["righe"].get(k), c) for k, c in den["righe"].items()}
        indicators[r["code"]] = {"totale": combine(num["totale"], den["totale"]), "righe": lines}
    seconds = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    figures = {"indicatori": indicators, "intervalli": intervals, "scadenze": deadlines, "arretrato": backlog}
    if state_steps is not None:
        figures["intervalli_stati"] = state_steps
    return {"variant": "raw", "import_s": round(t_imported - T_MODULE, 3),
            "rss_after_import_mb": round(rss_imported, 1), "seconds": seconds, "parts": parts,
            "figures": json.loads(json.dumps(figures, default=str))}


# ====================================================================== parent: the raw plan (SQL text)


def sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def write_plan(path: Path) -> dict:
    """The raw child's statements, written from the declarations (domain/indicators.py, the workflows) and
    following what services/tallies.py computes (the parts it has: re-referrals, PAI reviews, state steps)."""
    import services.tallies as tallies_mod
    from config.tally_files import load_tally_settings
    from domain.indicators import all_intervals, all_measures, all_ratios
    MEASURES, RATIOS, INTERVALS = all_measures(), all_ratios(), all_intervals()
    from domain.registry import all_case_types, all_workflows, get_workflow
    from services.tallies import Period

    assert tallies_mod.DISTRICT == DISTRICT, "services.tallies.DISTRICT moved"
    period = Period(YEAR, AS_OF)
    key = f"coalesce(co.sub_ambito, '{DISTRICT}')"
    measures = []
    for m in MEASURES:
        value = (f"({'c' if getattr(m, 'from_case', False) else 't'}.data ->> '{m.field[0]}')::float8" if m.field
                 else None)
        assert not m.field or len(m.field) == 1, "nested JSON paths: extend the raw plan"
        where = [f"t.transition IN ({sql_list(m.transitions)})", f"c.case_type = '{m.case_type}'",
                 "t.effective_on >= %(start)s", "t.effective_on <= %(end)s", "t.recorded_at < %(cut)s"]
        for p, expected in m.where:
            assert len(p) == 1, "nested JSON paths: extend the raw plan"
            where.append(f"t.data ->> '{p[0]}' = '{expected}'")
        sums = (f"coalesce(sum({value}), 0) AS total, count({value}) AS valued" if value
                else "0::float8 AS total, 0::bigint AS valued")
        # every cell is about the distinct people behind it, per key and in total (the ROLLUP's grand total)
        sql = (f"SELECT {key} AS key, count(*) AS rows, count(DISTINCT c.person_id) AS people, {sums} "
               "FROM case_transition t JOIN case_file c ON c.id = t.case_id "
               "LEFT JOIN comune co ON co.istat = c.comune_istat "
               "WHERE " + " AND ".join(where) + f" GROUP BY ROLLUP ({key})")
        measures.append({"code": m.code, "agg": m.agg.value, "personal": get_workflow(m.case_type).has_person,
                         "sql": sql})
    intervals = []
    for iv in INTERVALS:
        suspended = sorted(s.name for s in get_workflow(iv.case_type).states if s.suspended)
        for name in iv.end:  # the formula below closes every suspension by the end step
            t = get_workflow(iv.case_type).transition(name)
            assert not get_workflow(iv.case_type).state(t.target).suspended, f"{iv.code}: end step suspends"
        susp = f"t.to_state IN ({sql_list(suspended)})" if suspended else "false"
        left = f"coalesce(t.from_state IN ({sql_list(suspended)}), false)" if suspended else "false"
        # only the start and end steps and the steps entering or leaving a suspension: the history is gapless
        # up to the as-of day (effective and recording times never go back), so a step's from_state is the
        # previous step's to_state, and a step in range whose previous step is in range too has seq - 1 > s0
        rows_filter = (f"(t.transition IN ({sql_list(iv.start + iv.end)}) OR {susp} OR {left})" if suspended
                       else f"t.transition IN ({sql_list(iv.start + iv.end)})")
        sql = (
            "WITH t AS ("
            f" SELECT t.case_id, t.seq, t.transition, t.effective_on - DATE '2000-01-01' AS d, {susp} AS s,"
            f"  {left} AS fs,"
            f"  min(t.seq) FILTER (WHERE t.transition IN ({sql_list(iv.start)})) OVER (PARTITION BY t.case_id) AS s0"
            " FROM case_transition t JOIN case_file c ON c.id = t.case_id"
            f" WHERE c.case_type = '{iv.case_type}' AND t.effective_on <= %(end)s AND t.recorded_at < %(cut)s"
            f"  AND {rows_filter}),"
            " e AS ("
            " SELECT *, min(seq) FILTER (WHERE transition IN (" + sql_list(iv.end) + ") AND seq > s0)"
            "  OVER (PARTITION BY case_id) AS e0 FROM t WHERE s0 IS NOT NULL),"
            " per_case AS ("
            " SELECT case_id, max(d) FILTER (WHERE seq = e0) AS d1, max(d) FILTER (WHERE seq = s0) AS d0,"
            "  coalesce(sum(CASE WHEN NOT s AND fs AND seq - 1 > s0 THEN d"
            "                    WHEN s AND NOT (fs AND seq - 1 > s0) THEN -d END)"
            "   FILTER (WHERE seq > s0 AND seq <= e0), 0) AS paused"
            " FROM e WHERE e0 IS NOT NULL GROUP BY case_id)"
            f" SELECT {key} AS key, count(*),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY (d1 - d0)::float8),"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY (d1 - d0)::float8),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY (d1 - d0 - paused)::float8),"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY (d1 - d0 - paused)::float8),"
            " count(DISTINCT c.person_id)"
            " FROM per_case pc JOIN case_file c ON c.id = pc.case_id LEFT JOIN comune co ON co.istat = c.comune_istat"
            " WHERE d1 >= %(start)s - DATE '2000-01-01'"
            f" GROUP BY ROLLUP ({key})"
        )
        intervals.append({"code": iv.code, "personal": get_workflow(iv.case_type).has_person, "sql": sql})
    on_time = "d.status = 'met' AND d.closed_on <= d.due AND d.closed_on <= %(as_of)s"
    series = {"scadenze_statutory": "d.source = 'statutory'", "scadenze_configured": "d.source = 'configured'"}
    for ct in all_case_types():  # the series each case type declares
        for di in ct.deadline_indicators:
            series[di.code] = f"c.case_type = '{ct.case_type}' AND d.kind = '{di.kind}'"
    deadlines_sql = (
        f"SELECT {key} AS key, "
        + ", ".join(f"count(*) FILTER (WHERE {cond}), count(*) FILTER (WHERE {cond} AND {on_time}), "
                    f"count(DISTINCT c.person_id) FILTER (WHERE {cond})" for cond in series.values())
        + " FROM deadline d JOIN case_file c ON c.id = d.case_id"
        " JOIN case_transition s ON s.case_id = d.case_id AND s.seq = d.started_seq"
        " LEFT JOIN comune co ON co.istat = c.comune_istat"
        " WHERE d.due >= %(start)s AND d.due < %(end)s AND s.recorded_at < %(cut)s"
        "  AND NOT (d.status IN ('cancelled', 'expired') AND d.closed_on <= %(as_of)s)"
        f" GROUP BY ROLLUP ({key})"
    )
    # each declared re-referral (patti: referrals of people referred for one in the 365 days before)
    rereferrals = [{"code": rr.code, "sql": (
        "SELECT key, count(*), count(DISTINCT person_id) FROM ("
        f" SELECT c.person_id, t.effective_on, {key} AS key,"
        "  lag(t.effective_on) OVER (PARTITION BY c.person_id ORDER BY t.effective_on, t.case_id) AS previous"
        " FROM case_transition t JOIN case_file c ON c.id = t.case_id"
        " LEFT JOIN comune co ON co.istat = c.comune_istat"
        f" WHERE c.case_type = '{ct.case_type}' AND t.transition = '{rr.transition}'"
        f"  AND t.effective_on >= %(start)s - {int(rr.days)}"
        "  AND t.effective_on <= %(end)s AND t.recorded_at < %(cut)s) r"
        f" WHERE effective_on >= %(start)s AND previous IS NOT NULL AND effective_on - previous <= {int(rr.days)}"
        " GROUP BY ROLLUP (key)")} for ct in all_case_types() for rr in ct.rereferrals]
    state_intervals_sql = None
    if hasattr(tallies_mod, "_state_intervals"):  # days since the case's previous step, per (type, from, to)
        state_intervals_sql = (
            "SELECT case_type, from_state, to_state, count(*),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY days), percentile_cont(0.9) WITHIN GROUP (ORDER BY days),"
            " count(DISTINCT person_id)"
            " FROM (SELECT c.case_type, t.from_state, t.to_state, t.effective_on, c.person_id,"
            "  t.effective_on - lag(t.effective_on) OVER (PARTITION BY t.case_id ORDER BY t.seq) AS days"
            "  FROM case_transition t JOIN case_file c ON c.id = t.case_id"
            "  WHERE t.effective_on <= %(end)s AND t.recorded_at < %(cut)s) s"
            " WHERE days IS NOT NULL AND effective_on >= %(start)s GROUP BY case_type, from_state, to_state"
        )
    backlog_sql = (
        "SELECT c.case_type, t.to_state, count(*), count(DISTINCT c.person_id) FROM ("
        " SELECT DISTINCT ON (case_id) case_id, to_state FROM case_transition"
        " WHERE effective_on <= %(as_of)s AND recorded_at < %(cut)s ORDER BY case_id, seq DESC) t"
        " JOIN case_file c ON c.id = t.case_id GROUP BY c.case_type, t.to_state"
    )
    by_code = {m.code: m for m in MEASURES}
    ratios = [{"code": r.code, "numerator": r.numerator, "denominator": r.denominator, "scale": r.scale,
               "no_lines": get_workflow(by_code[r.denominator].case_type).district_level
               and not get_workflow(by_code[r.numerator].case_type).district_level} for r in RATIOS]
    plan = {
        "year": YEAR, "as_of": AS_OF.isoformat(), "by": BY, "start": period.start.isoformat(),
        "end": period.end.isoformat(), "cut": period.recorded_before.isoformat(),
        "threshold": load_tally_settings().threshold, "measures": measures, "intervals": intervals,
        "ratios": ratios, "deadlines_sql": deadlines_sql, "deadline_series": list(series), "backlog_sql": backlog_sql,
        "rereferrals": rereferrals, "state_intervals_sql": state_intervals_sql,
        "terminal": sorted([wf.case_type, s.name] for wf in all_workflows() for s in wf.states if s.terminal),
        "personal_types": sorted(wf.case_type for wf in all_workflows() if wf.has_person),
    }
    path.write_text(json.dumps(plan))
    return plan


# ====================================================================== parent: data set


def drop_database(url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    assert "bench" in name
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


class Stop(Exception):
    """The next step would fall after the as-of day: the case stays where it is."""


# days from the starting step to a deadline's due date, by kind (about the policy's terms)
DUE_DAYS = {"presa_in_carico": 14, "analisi_preliminare": 35, "firma_patto": 28, "monitoraggio": 30,
            "sospensione": 60, "verifica": 30, "apertura_bando": 12, "chiusura_bando": 60,
            "graduatoria_definitiva": 60, "integrazioni": 10, "esito_finanziamento": 90, "esito_preavviso": 40,
            "piano": 30, "risposta_ente": 15, "firma_patto_accreditamento": 20, "scadenza_accreditamento": 365,
            "valutazione": 14, "pai": 7, "prima_visita": 7, "revisione_pai": 90, "rivalutazione_sospensione": 30}
DEADLINES_PER_CASE = 1.5
SURNAMES = ("Bianchi", "Rossi", "Verdi", "Ferrari", "Russo", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
            "Galli", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri")
NAMES = ("Mario", "Giulia", "Luca", "Anna", "Marco", "Sara", "Paolo", "Elena", "Giorgio", "Chiara", "Ahmed",
         "Fatima", "Ion", "Maria")
SERVIZI = ("igiene_personale", "pasti", "cura_ambiente", "accompagnamento", "socializzazione")
MISURE = (("caregiver", 0.55), ("assistente_personale", 0.15), ("vita_indipendente", 0.10),
          ("voucher_minori", 0.20))
ROLES = {"patto": "social_worker", "sad_caso": "social_worker", "fna_domanda": "csc_admin",
         "fna_bando": "planning_office", "sad_adesione": "csc_admin"}


class Calendar2026:
    """Ordinal days <-> ISO text and the UTC text of a Rome wall-clock time, cached (5M rows to format)."""

    def __init__(self):
        from domain.italian import ROME as rome

        first = date(YEAR - 1, 12, 1).toordinal()
        self.iso: dict[int, str] = {}
        self.offset: dict[int, int] = {}  # Rome - UTC, hours, at noon
        for o in range(first, date(YEAR + 1, 2, 1).toordinal()):
            d = date.fromordinal(o)
            self.iso[o] = d.isoformat()
            self.offset[o] = int(datetime(d.year, d.month, d.day, 12, tzinfo=rome).utcoffset().total_seconds()
                                 // 3600)

    def at(self, o: int, minute_of_day_rome: int) -> tuple[int, int]:
        """(UTC ordinal, UTC minute of day) of a Rome wall-clock minute on day o."""
        m = minute_of_day_rome - 60 * self.offset[o]
        return (o, m) if m >= 0 else (o - 1, m + 1440)

    def ts(self, o: int, minute: int) -> str:
        while minute >= 1440:
            o, minute = o + 1, minute - 1440
        return f"{self.iso[o]} {minute // 60:02d}:{minute % 60:02d}:00+00"


class CaseBuilder:
    """One case's path: steps (checked against the declaration), then its COPY rows."""

    __slots__ = ("case_type", "steps", "kind", "provider", "state", "outcome", "as_of", "rng", "case_data")

    def __init__(self, case_type: str, rng, as_of: int):
        self.case_type, self.rng, self.as_of = case_type, rng, as_of
        self.steps: list[tuple] = []  # (name, from, to, day, data json, reason, actor role)
        self.kind = self.provider = self.outcome = None
        self.state = None
        self.case_data = "{}"

    def step(self, name: str, to: str, day: int, data: dict | None = None, reason: str | None = None,
             role: str | None = None) -> int:
        if self.steps and day <= self.steps[-1][3]:
            day = self.steps[-1][3] + 1  # one step a day at most, in order
        if day > self.as_of:
            raise Stop
        self.steps.append((name, self.state, to, day, json.dumps(data or {}), reason,
                           role or ROLES[self.case_type]))
        self.state = to
        return day


def gen_patto(b: CaseBuilder, o: int) -> None:
    r = b.rng
    b.step("segnala", "REFERRED", o, {"fonte": r.choice(("spontanea", "caritas", "comune", "centro_impiego",
                                                         "terzo_settore")),
                                      "bisogno": r.choice(("economico", "abitativo", "lavorativo", "utenze",
                                                           "relazionale")),
                                      "note": "Segnalazione"})
    u = r.random()
    d = o + r.randint(1, 12)
    if u < 0.05:
        b.step("archivia", "ARCHIVED", d, {}, "doppia segnalazione")
        return
    d = b.step("assegna", "INTAKE", d, {"assegnatario": "as.bench", "primo_colloquio_il": b_iso(d)},
               role="subarea_coordinator")
    d += r.randint(3, 20)
    if u < 0.08:
        b.step("non_ammette", "NOT_ADMITTED", d, {"requisito_mancante": r.choice(("residenza", "isee", "altro")),
                                                  "comunicata_il": b_iso(d)}, role="subarea_coordinator")
        return
    kind = "inclusione" if r.random() < 0.7 else "autonomia"
    d = b.step("avvia_redazione", "DRAFTING", d, {
        "tipologia": kind, "bisogni": "Reddito insufficiente, utenze arretrate", "risorse": "Rete familiare",
        "componenti_nucleo": r.randint(1, 6),
        "isee": {"tipo": "ordinario", "valore": f"{r.randint(2000, 9300)}.00", "data_dsu": "2026-01-15",
                 "protocollo": f"INPS-ISEE-2026-{r.randint(0, 10**9 - 1):09d}-00"}})
    b.kind = kind
    d += r.randint(5, 30)
    if u < 0.10:
        b.step("rinuncia", "WITHDRAWN", d, {"motivo": "trasferimento"}, "rinuncia del beneficiario")
        return
    months = r.choice((3, 4, 6, 6, 6, 9, 12))
    monthly = r.choice((200, 250, 300, 400, 500))
    d = b.step("attiva", "ACTIVE", d, {
        "canale": "progetto" if r.random() < 0.65 else "ulteriore",
        "obiettivi": [{"descrizione": "Ricerca attiva di lavoro", "indicatore": "colloqui", "target": "3",
                       "peso": "1"},
                      {"descrizione": "Regolarizzazione delle utenze", "indicatore": "bollette pagate",
                       "target": "4", "peso": "2"}],
        "impegni_reciprocita": [{"attivita": "Volontariato in mensa", "ente_ospitante": "Caritas",
                                 "ore_settimanali": str(r.choice((2, 4, 6)))}],
        "misura_economica": {"tipo": "mensile", "importo": f"{monthly}.00", "mensilita": months,
                             "voci": ["sostegno_reddito"]},
        "data_inizio": b_iso(d), "data_fine": b_iso(d + 30 * months), "firmato_il": b_iso(d),
        "firmatari": ["Beneficiario"], "firma_assistente_sociale": True, "informativa_privacy": True})
    end = d + 30 * months
    stop_at, stop = None, None
    if u < 0.17:
        stop_at, stop = d + r.randint(20, 30 * months), "interrompi"
    elif u < 0.19:
        stop_at, stop = d + r.randint(20, 30 * months), "rinuncia"
    suspend_at = d + r.randint(10, 30 * months - 10) if r.random() < 0.10 else None
    t = d
    while True:
        nxt = t + r.randint(45, 75)
        horizon = min(nxt, end, stop_at or end)
        if suspend_at is not None and suspend_at <= horizon:
            s = b.step("sospendi", "SUSPENDED", suspend_at, {}, "ricovero")
            resume = s + r.randint(15, 60)
            suspend_at = None
            if stop == "interrompi" and stop_at <= resume:
                b.step("interrompi", "INTERRUPTED", stop_at, {"causa": "trasferimento"}, "trasferito",
                       role="subarea_coordinator")
                return
            t = b.step("riprendi", "ACTIVE", resume, {})
            end += t - s
            if stop_at is not None and stop_at <= t:
                stop_at = t + 1
            continue
        if stop_at is not None and stop_at <= min(nxt, end):
            b.step(stop, "INTERRUPTED" if stop == "interrompi" else "WITHDRAWN", stop_at,
                   {"causa": "trasferimento"} if stop == "interrompi" else {"motivo": "lavoro trovato"},
                   "interruzione" if stop == "interrompi" else "rinuncia",
                   role="subarea_coordinator" if stop == "interrompi" else None)
            return
        if nxt >= end:
            break
        t = b.step("registra_monitoraggio", "ACTIVE", nxt, {
            "incontro_il": b_iso(nxt), "ore_reciprocita": str(r.choice((4, 8, 12, 16, 20, 24))),
            "avanzamento": "Regolare, impegni rispettati", "importo_erogato": f"{monthly * 2}.00"})
    d = b.step("avvia_verifica", "UNDER_REVIEW", end, {}, role="system")
    shares = [r.choice(("0", "0.5", "1")), r.choice(("0", "0.5", "1"))]
    rate = round((float(shares[0]) * 1 + float(shares[1]) * 2) / 3, 4)
    esito = "positivo" if rate >= 0.70 else "parziale" if rate >= 0.30 else "negativo"
    b.step("chiudi", "CLOSED", d + r.randint(5, 25), {"raggiungimento": shares, "relazione": "verifica finale",
                                                      "tasso_realizzazione": rate, "esito": esito})
    b.outcome = esito


def gen_sad(b: CaseBuilder, o: int, providers: list[str]) -> None:
    r = b.rng
    urgent = r.random() < 0.15
    merged = {"urgente": urgent, "bisogni": "Igiene personale e pasti",
              "segnalato_da": r.choice(("famiglia", "mmg", "ospedale", "servizi"))}
    b.case_data = json.dumps(merged)  # the case's data: the steps' data merged (what tallies read from the case)
    b.step("segnala", "REFERRED", o, dict(merged))
    u = r.random()
    d = o + r.randint(2, 10)
    if u < 0.04:
        b.step("archivia", "ARCHIVED", d, {}, "nessun bisogno")
        return
    if u < 0.07:
        b.step("non_ammette", "NOT_ADMITTED", d, {"motivo": "requisiti"}, "non ammesso")
        return
    d = b.step("valuta", "ASSESSMENT", d + r.randint(3, 15),
               {"adl": r.randint(0, 6), "iadl": r.randint(0, 8), "visita_il": b_iso(d)})
    d = b.step("redigi_pai", "CAREPLAN_DRAFT", d + r.randint(5, 20), {
        "servizi": r.sample(SERVIZI, 2), "ore_settimanali": str(r.choice((2, 3, 4, 6))),
        "revisione_il": b_iso(d + 180)})
    d += r.randint(5, 20)
    if u < 0.10:
        b.step("rinuncia", "WITHDRAWN", d, {"motivo": "assistenza privata"}, "rinuncia")
        return
    provider = r.choice(providers)
    d = b.step("scegli_ente", "PROVIDER_CHOSEN", d, {"ente": provider, "modulo_firmato_il": b_iso(d)})
    b.provider = provider
    months = r.choice((2, 3, 3, 4, 6))

    def voucher(day: int) -> int:
        data = {"ore_mensili": str(r.choice((8, 12, 16, 24))), "tariffa_oraria": "21.50",
                "quota_utente": f"{r.choice((0, 0, 15, 30, 45, 60))}.00", "valido_dal": b_iso(day),
                "valido_al": b_iso(day + 30 * months)}
        day = b.step("emetti_voucher", "VOUCHER_ISSUED", day, data)
        merged.update(data, ente=b.provider)
        b.case_data = json.dumps(merged)
        return day

    def first_visit(day: int) -> int:
        minutes = r.choice((60, 90, 120))
        return b.step("prima_visita", "ACTIVE", day, {
            "visita": {"data": b_iso(day), "operatore": "Operatrice", "minuti": minutes, "servizi": ["pasti"]},
            "ore": round(minutes / 60, 2)})

    d = voucher(d + r.randint(5, 20))  # waiting for a place with the provider
    d = first_visit(d + r.randint(3, 14))
    end = d + 30 * months
    change_at = d + r.randint(20, 30 * months - 10) if r.random() < 0.05 else None
    suspend_at = d + r.randint(20, 30 * months - 10) if r.random() < 0.06 else None
    stop_at = d + r.randint(20, 30 * months) if u < 0.17 else None
    t = d
    while True:
        nxt = t + r.randint(28, 34)
        if change_at is not None and change_at <= min(nxt, end):
            new = r.choice([p for p in providers if p != b.provider])
            c = b.step("cambia_ente", "PROVIDER_CHANGE", change_at,
                       {"ente": new, "modulo_firmato_il": b_iso(change_at)})
            b.provider = new
            change_at = None
            c = voucher(c + r.randint(2, 6))
            t = first_visit(c + r.randint(1, 5))
            continue
        if suspend_at is not None and suspend_at <= min(nxt, end):
            s = b.step("sospendi", "SUSPENDED", suspend_at, {}, "ricovero")
            suspend_at = None
            if r.random() < 0.2:
                b.step("interrompi", "INTERRUPTED", s + r.randint(20, 60), {"causa": "ingresso in RSA"}, "RSA")
                return
            t = b.step("riprendi", "ACTIVE", s + r.randint(10, 45), {})
            end += t - s
            continue
        if stop_at is not None and stop_at <= min(nxt, end):
            if u < 0.14:
                b.step("interrompi", "INTERRUPTED", stop_at, {"causa": "decesso"}, "interruzione")
            else:
                b.step("rinuncia", "WITHDRAWN", stop_at, {"motivo": "familiare"}, "rinuncia")
            return
        if nxt >= end:
            break
        visits = [{"data": b_iso(nxt - 20 + 7 * k), "operatore": "Operatrice", "minuti": r.choice((60, 90, 120)),
                   "servizi": ["igiene_personale"]} for k in range(r.randint(2, 4))]
        t = b.step("registra_visite", "ACTIVE", nxt, {"mese": b_iso(nxt - 25), "visite": visits,
                                                     "ore": round(sum(v["minuti"] for v in visits) / 60, 2)})
    d = b.step("avvia_revisione", "REVIEW", end, {})
    d = b.step("avvia_verifica", "UNDER_REVIEW", d + r.randint(1, 7), {"esito_revisione": "fine del progetto"})
    reached = r.randint(0, 3)
    esito = "positivo" if reached >= 2 else "parziale" if reached == 1 else "negativo"
    b.step("chiudi", "CLOSED", d + r.randint(5, 25), {"obiettivi_raggiunti": reached, "esito": esito})
    b.outcome = esito


def gen_fna(b: CaseBuilder, o: int, call: dict, misura: str, funded_total: list) -> None:
    r = b.rng
    b.case_data = json.dumps({"misura": misura, "bando_id": call["id"]})
    b.step("presenta", "SUBMITTED", o, {"misura": misura, "isee": {"tipo": "sociosanitario",
                                                                  "valore": f"{r.randint(5000, 40000)}.00"},
                                        "iban": "IT60X0542811101000000123456", "protocollo": f"FNA-{o}"})
    u = r.random()
    d = b.step("avvia_istruttoria", "ADMIN_CHECK", o + r.randint(3, 20), {})
    if r.random() < 0.15:
        d = b.step("richiedi_integrazioni", "INFO_REQUESTED", d + r.randint(2, 10), {"documenti": ["certificazione"]})
        if r.random() < 0.10:
            b.step("archivia", "ARCHIVED", d + 11, {}, "nessuna risposta")
            return
        d = b.step("ricevi_integrazioni", "ADMIN_CHECK", d + r.randint(3, 10), {})
    d = b.step("avvia_valutazione", "ASSESSMENT", d + r.randint(5, 20), {})
    if u < 0.08:
        d = b.step("preavviso_rigetto", "REJECTION_NOTICE", d + r.randint(5, 15), {"motivi": "requisiti"})
        if u < 0.056:
            b.step("rigetta", "NOT_ADMITTED", d + 41, {"motivi": "requisiti non posseduti"})
            return
        d = b.step("accogli_osservazioni", "ASSESSMENT", d + r.randint(10, 30), {})
    if u > 0.98:
        b.step("rinuncia", "WITHDRAWN", d + r.randint(3, 30), {"motivo": "altra misura"}, "rinuncia")
        return
    d = b.step("ammetti", "ELIGIBLE", max(d + 1, call["provisional"] - r.randint(0, 12)),
               {"punteggio": r.randint(10, 90), "misura_proposta": misura})
    monthly = r.choice((300, 400, 500, 600, 800))
    at = max(d + 1, call["final"] + r.randint(0, 10))
    if r.random() < 0.45:
        d = b.step("non_finanzia", "NOT_FUNDED", at, {})
        if r.random() > 0.15:
            return
        at = d + r.randint(30, 90)  # scorrimento della graduatoria
    d = b.step("finanzia", "FUNDED", at, {"importo_annuo": f"{12 * monthly}.00"})
    funded_total[0] += 12 * monthly
    d = b.step("firma_piano", "PLAN_SIGNED", d + r.randint(7, 30), {"misura": misura, "firmato_il": b_iso(d)})
    d = b.step("avvia_erogazione", "DISBURSING", d + r.randint(3, 15), {})
    suspend = r.random() < 0.05
    lapse = r.random() < 0.03
    t, k = d, 0
    while True:
        t = b.step("registra_pagamento", "DISBURSING", t + r.randint(85, 95),
                   {"mese": b_iso(t), "importo": f"{3 * monthly}.00"})
        k += 1
        if suspend and k == 1:
            s = b.step("sospendi", "SUSPENDED", t + r.randint(5, 20), {"motivo": "ricovero di sollievo"})
            if r.random() < 0.3:
                b.step("decadenza", "LAPSED", s + r.randint(30, 60), {"causa": "ricovero definitivo"}, "decadenza")
                return
            t = b.step("riprendi", "DISBURSING", s + r.randint(30, 60), {})
        if lapse and k == 1:
            b.step("decadenza", "LAPSED", t + r.randint(10, 40), {"causa": "misura_incompatibile"}, "decadenza")
            return


def gen_call(b: CaseBuilder, call: dict, budget: int) -> None:
    b.step("crea", "DRAFT", call["created"], {"titolo": f"Bando FNA B2 {call['id']}", "anno_fna": YEAR,
                                              "dgr": "DGR XII/1669"}, role="planning_office")
    b.step("approva", "APPROVED", call["approved"], {"budget": f"{budget}.00", "misure": [
        {"misura": m, "importo_min": "100.00", "importo_max": "900.00"} for m, _ in MISURE]})
    b.step("apri", "OPEN", call["open"], {})
    b.step("chiudi", "CLOSED", call["close"], {})
    b.step("pubblica_graduatoria_provvisoria", "RANKING_PROVISIONAL", call["provisional"], {})
    b.step("pubblica_graduatoria_definitiva", "RANKING_FINAL", call["final"], {})
    b.step("avvia_erogazioni", "DISBURSING", call["final"] + 14, {})


def gen_adhesion(b: CaseBuilder, o: int, provider: str) -> None:
    r = b.rng
    b.provider = provider
    b.step("invita", "INVITED", o, {"pec": f"{provider.lower()}@pec.example.org"})
    if r.random() < 0.1:
        b.step("declina", "DECLINED", o + r.randint(5, 14), {}, "non interessato")
        return
    d = b.step("rispondi", "ANSWERED", o + r.randint(5, 14), {"interesse": True})
    d = b.step("firma", "PACT_SIGNED", d + r.randint(10, 20), {"firmato_il": b_iso(d)})
    b.step("attiva", "ACTIVE", d + r.randint(5, 15), {})


_CAL: Calendar2026 | None = None


def b_iso(o: int) -> str:
    return _CAL.iso.get(o) or date.fromordinal(o).isoformat()


def build_dataset(url: str, n: int, check_paths: int = 5000) -> dict:
    """Fresh database, init_database, then N cases with their history, people and deadlines through COPY."""
    import random
    from collections import Counter

    import psycopg

    from domain.registry import all_workflows
    from services.setup import init_database
    from store.db import make_engine

    global _CAL
    t0 = time.perf_counter()
    recreate_database(url)
    engine = make_engine(url)
    district = init_database(url, engine)
    engine.dispose()
    _CAL = cal = Calendar2026()
    rng = random.Random(SEED + n)
    comuni = list(district.comuni)
    area_of = {c.istat: c.sub_ambito for c in comuni}
    istat = [c.istat for c in comuni]
    cum_weights = []
    acc = 0
    for c in comuni:
        acc += max(1, c.popolazione)
        cum_weights.append(acc)
    providers = [p.codice for p in district.providers]
    wf = {w.case_type: w for w in all_workflows()}
    starts = {ct: {t.name: t.starts for t in w.transitions} for ct, w in wf.items()}
    terminal = {(ct, s.name) for ct, w in wf.items() for s in w.states if s.terminal}
    suspended = {(ct, s.name) for ct, w in wf.items() for s in w.states if s.suspended}
    as_of = AS_OF.toordinal()
    first_day = date(YEAR, 1, 2).toordinal()
    calls = [
        {"id": None, "created": date(YEAR, 1, 8).toordinal(), "approved": date(YEAR, 1, 15).toordinal(),
         "open": date(YEAR, 2, 2).toordinal(), "close": date(YEAR, 3, 31).toordinal(),
         "provisional": date(YEAR, 4, 30).toordinal(), "final": date(YEAR, 5, 25).toordinal()},
        {"id": None, "created": date(YEAR, 7, 6).toordinal(), "approved": date(YEAR, 7, 15).toordinal(),
         "open": date(YEAR, 9, 14).toordinal(), "close": date(YEAR, 10, 30).toordinal(),
         "provisional": date(YEAR, 11, 30).toordinal(), "final": date(YEAR, 12, 21).toordinal()},
    ]
    # ids: the calls and adhesions first, then the personal cases
    case_id = 0
    for c in calls:
        case_id += 1
        c["id"] = case_id
    adhesion_ids = []
    for _ in providers:
        case_id += 1
        adhesion_ids.append(case_id)
    funded = [[0], [0]]
    with psycopg.connect(url) as conn:
        policy = conn.execute("SELECT version FROM policy_version WHERE valid_from <= %s ORDER BY valid_from DESC "
                              "LIMIT 1", (date(YEAR, 1, 1),)).fetchone()[0]
    with psycopg.connect(url) as conn:
        default_ambito(conn)  # the generated cases are the default Ambito's (case_file.ambito_code, 0018)
    conns = [psycopg.connect(url) for _ in range(4)]
    for c in conns:
        c.execute("SET session_replication_role = replica")  # generated consistently: skip FK triggers
    cp_person = conns[0].cursor().copy(
        "COPY person (id, codice_fiscale, cognome, nome, data_nascita, provisional_code) FROM STDIN")
    cp_case = conns[1].cursor().copy(
        "COPY case_file (id, case_type, kind, state, comune_istat, person_id, owner, related_case_id, "
        "provider_codice, policy_version, opened_at, state_since, outcome, outcome_reason, data, version) FROM STDIN")
    cp_tr = conns[2].cursor().copy(
        "COPY case_transition (id, case_id, seq, transition, from_state, to_state, actor, actor_role, recorded_at, "
        "effective_at, effective_on, reason, data) FROM STDIN")
    cp_dl = conns[3].cursor().copy(
        "COPY deadline (id, case_id, kind, label, due, basis, source, status, started_seq, closed_on, "
        "suspended_days) FROM STDIN")
    managers = [cp_person, cp_case, cp_tr, cp_dl]
    copies = [cm.__enter__() for cm in managers]
    buffers: list[list[str]] = [[], [], [], []]
    stats: Counter = Counter()
    tr_id = dl_id = person_id = 0
    deadline_keep = 1.0  # adjusted every 1000 cases to land near DEADLINES_PER_CASE
    deadline_seen = deadline_kept = 0

    def flush(force: bool = False) -> None:
        for k, buf in enumerate(buffers):
            if buf and (force or len(buf) >= 20000):
                copies[k].write("".join(buf))
                buf.clear()

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\") if "\\" in text else text

    def emit(cid: int, b: CaseBuilder, comune: str | None, pid: int | None, owner: str, related: int | None,
             checked: bool) -> None:
        nonlocal tr_id, dl_id, deadline_seen, deadline_kept
        ct = b.case_type
        if checked:  # the path is one the declaration allows
            w = wf[ct]
            for name, frm, to, *_ in b.steps:
                t = w.transition(name)
                assert t is not None and t.target == to and (frm in t.sources if t.sources else frm is None), \
                    f"{ct}: {frm} -{name}-> {to} is not in the declaration"
        rows = buffers[2]
        r = b.rng
        days = []
        for seq, (name, frm, to, day, data, reason, role) in enumerate(b.steps, 1):
            tr_id += 1
            minute = r.randint(8 * 60, 17 * 60 + 59)
            uo, um = cal.at(day, minute)
            delay = r.randint(2, 360)
            rows.append(f"{tr_id}\t{cid}\t{seq}\t{name}\t{frm or chr(92) + 'N'}\t{to}\t{owner}\t{role}\t"
                        f"{cal.ts(uo, um + delay)}\t{cal.ts(uo, um)}\t{cal.iso[day]}\t"
                        f"{reason if reason else chr(92) + 'N'}\t{esc(data)}\n")
            days.append(day)
            stats[f"tr:{ct}"] += 1
        last_day = days[-1]
        state = b.state
        # deadlines from the declared rules of the steps taken
        for i, (name, *_rest) in enumerate(b.steps):
            for rule in starts[ct].get(name, ()):
                deadline_seen += 1
                if r.random() > deadline_keep:
                    continue
                due = days[i] + DUE_DAYS.get(rule.kind, 30)
                status, closed = "open", None
                met = next((j for j in range(i + 1, len(b.steps)) if b.steps[j][0] in rule.met_by), None)
                if met is not None:
                    status, closed = "met", days[met]
                elif (ct, state) in terminal:
                    status, closed = "cancelled", last_day
                elif (ct, state) in suspended and rule.kind not in ("sospensione", "rivalutazione_sospensione"):
                    status = "paused"
                elif due < as_of and (rule.fires or r.random() < 0.3):
                    status, closed = "expired", due + rule.fires_after_days + 1
                    if closed > as_of:
                        status, closed = "open", None
                dl_id += 1
                deadline_kept += 1
                due_text = cal.iso.get(due) or date.fromordinal(due).isoformat()
                buffers[3].append(f"{dl_id}\t{cid}\t{rule.kind}\t{rule.label}\t{due_text}\t"
                                  f"{rule.basis.value}\t{rule.source.value}\t{status}\t{i + 1}\t"
                                  f"{cal.iso[closed] if closed else chr(92) + 'N'}\t0\n")
                stats[f"dl:{status}"] += 1
        first = b.steps[0]
        opened = cal.ts(*cal.at(first[3], 9 * 60))
        since = cal.ts(*cal.at(last_day, 9 * 60))
        buffers[1].append(
            f"{cid}\t{ct}\t{b.kind or chr(92) + 'N'}\t{state}\t{comune or chr(92) + 'N'}\t"
            f"{pid if pid else chr(92) + 'N'}\t{owner}\t{related if related else chr(92) + 'N'}\t"
            f"{b.provider or chr(92) + 'N'}\t{policy}\t{opened}\t{since}\t{b.outcome or chr(92) + 'N'}\t\\N\t"
            f"{esc(b.case_data)}\t{len(b.steps)}\n")
        stats[f"case:{ct}"] += 1

    def person(birth: date) -> int:
        nonlocal person_id
        person_id += 1
        buffers[0].append(f"{person_id}\tBNCTLY{person_id:010d}\t{SURNAMES[person_id % len(SURNAMES)]}\t"
                          f"{NAMES[(person_id // 7) % len(NAMES)]}\t{birth.isoformat()}\tf\n")
        return person_id

    def birth(lo: int, hi: int) -> date:
        return date(lo, 1, 1) + timedelta(days=rng.randint(0, (date(hi, 12, 31) - date(lo, 1, 1)).days))

    import bisect

    span = as_of - 10 - first_day
    earlier_patti: list[tuple[int, str]] = []  # (person, comune) of earlier patti (second patto of a person)
    types = list(SHARES)
    type_cum = [sum(SHARES[t] for t in types[: k + 1]) for k in range(len(types))]
    for k, provider in enumerate(providers):
        b = CaseBuilder("sad_adesione", rng, as_of)
        try:
            gen_adhesion(b, date(YEAR, 1, 12).toordinal() + k, provider)
        except Stop:
            pass
        emit(adhesion_ids[k], b, None, None, "udp.bench", None, True)
    for i in range(n):
        case_id += 1
        x = rng.random() * type_cum[-1]
        ct = types[bisect.bisect_right(type_cum, x)] if x < type_cum[-1] else types[-1]
        b = CaseBuilder(ct, rng, as_of)
        related = None
        if ct == "patto" and earlier_patti and rng.random() < 0.05:
            pid, comune = earlier_patti[rng.randrange(len(earlier_patti))]
        else:
            comune = istat[bisect.bisect_left(cum_weights, rng.random() * acc)]
            pid = None
        # openings grow through the year (more cases as the service is known): density rising linearly
        o = first_day + int(span * (rng.random() ** OPENING_SKEW))
        try:
            if ct == "patto":
                if pid is None:
                    pid = person(birth(1955, 2005))
                    if len(earlier_patti) < 200000:
                        earlier_patti.append((pid, comune))
                gen_patto(b, o)
            elif ct == "sad_caso":
                pid = person(birth(1925, 1960))
                gen_sad(b, o, providers)
            else:
                k = 0 if rng.random() < FNA_FIRST_CALL else 1
                call = calls[k]
                misura = MISURE[-1][0]
                y = rng.random()
                for m, share in MISURE:
                    if y < share:
                        misura = m
                        break
                    y -= share
                pid = person(birth(2009, 2020) if misura == "voucher_minori" else birth(1925, 1975))
                related = call["id"]
                gen_fna(b, rng.randint(call["open"], call["close"]), call, misura, funded[k])
        except Stop:
            pass
        if not b.steps:
            case_id -= 1  # opened after the as-of day: not a case yet
            continue
        emit(case_id, b, comune, pid, f"as.{slug(area_of[comune])}", related, i < check_paths)
        if i % 1000 == 999:  # thin the deadlines to about DEADLINES_PER_CASE: aim at the target 1000 cases on
            rate = deadline_seen / (i + 1)
            deadline_keep = min(1.0, max(0.05, (DEADLINES_PER_CASE * (i + 1001) - deadline_kept) / (rate * 1000)))
        flush()
    for k, c in enumerate(calls):  # budgets: what the year funded is about 90% of each call's budget
        b = CaseBuilder("fna_bando", rng, as_of)
        try:
            gen_call(b, c, max(100000, int(funded[k][0] / 0.9 / 1000) * 1000))
        except Stop:
            pass
        emit(c["id"], b, None, None, "udp.bench", None, True)
    flush(force=True)
    for cm in managers:
        cm.__exit__(None, None, None)
    for c in conns:
        c.commit()
        c.close()
    t_copy = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("person", "case_file", "case_transition", "deadline"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        tsize = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('case_transition'))").fetchone()[0]
        counts = dict(conn.execute("SELECT case_type, count(*) FROM case_file GROUP BY 1").fetchall())
        n_tr = conn.execute("SELECT count(*) FROM case_transition").fetchone()[0]
        n_dl = conn.execute("SELECT count(*) FROM deadline").fetchone()[0]
        n_person = conn.execute("SELECT count(*) FROM person").fetchone()[0]
        dl_status = dict(conn.execute("SELECT status, count(*) FROM deadline GROUP BY 1").fetchall())
    total_cases = sum(counts.values())
    return {"cases": total_cases, "requested": n, "by_type": counts, "transitions": n_tr,
            "transitions_by_type": {k[3:]: v for k, v in stats.items() if k.startswith("tr:")},
            "deadlines": n_dl, "deadline_status": dl_status, "people": n_person, "db_size": size,
            "transition_table": tsize, "copy_s": round(t_copy, 1), "setup_s": round(time.perf_counter() - t0, 1)}


# ====================================================================== parent: runs, checks, report


def compare(a, b, path: str = "", diffs: list | None = None) -> list[str]:
    """Every number equal (floats to 1e-9 relative; euro sums rounded to the cent and means rounded to 4 decimals
    may differ by one rounding step)."""
    diffs = [] if diffs is None else diffs
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                diffs.append(f"{path}/{k}: only in {'tallies' if k in a else 'raw'}")
            else:
                compare(a[k], b[k], f"{path}/{k}", diffs)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{path}[{k}]", diffs)
    elif isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        if a != b:
            diffs.append(f"{path}: tallies {a!r} raw {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        m = max(abs(a), abs(b))  # float sums in another order may land across a rounding: one step allowed
        step = 0 if isinstance(a, int) and isinstance(b, int) else 0.0101 if m >= 100 else 1.01e-4
        if a != b and abs(a - b) > max(1e-9 * m, step):
            diffs.append(f"{path}: tallies {a!r} raw {b!r}")
    elif a != b:
        diffs.append(f"{path}: tallies {a!r} raw {b!r}")
    return diffs


def machine(url: str) -> dict:
    import psycopg
    import sqlalchemy
    from psycopg.conninfo import make_conninfo

    cpu, mem = cpu_and_memory()
    with psycopg.connect(make_conninfo(url, dbname="postgres")) as conn:
        show = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in
                ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")}
    return {"cpu": cpu, "nproc": os.cpu_count(), "memory": mem, "loadavg": loadavg(),
            "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__, "psycopg": psycopg.__version__,
            "postgresql": f"{show['server_version']} (127.0.0.1, shared_buffers {show['shared_buffers']}, work_mem "
                          f"{show['work_mem']}, max_parallel_workers_per_gather "
                          f"{show['max_parallel_workers_per_gather']}, jit {show['jit']})"}


LAUNCH: Launcher | None = None


def run_child(variant: str, url: str, plan: Path, src: str | None = None, profile: str | None = None) -> dict:
    paths = [str(REPO)] if not src else [str(Path(src).resolve()), str(REPO)]
    # the child's code is always this file; services/, domain/ etc. come from `src` first when given
    boot = (f"import sys, importlib.util as u; sys.path[:0] = {paths!r}; "
            f"s = u.spec_from_file_location('bench_tallies_child', {str(Path(__file__).resolve())!r}); "
            "m = u.module_from_spec(s); s.loader.exec_module(m); sys.exit(m.child_main(sys.argv[1:]))")
    cmd = [sys.executable, "-c", boot, variant, "--url", url, "--plan", str(plan)]
    if profile:
        cmd += ["--profile", profile]
    rc, stdout, stderr = LAUNCH.run(cmd, tempfile.gettempdir())
    if rc != 0:
        raise RuntimeError(f"{variant} child failed ({rc}):\n{stdout}\n{stderr}")
    line = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def explain(url: str, plan: dict) -> list[str]:
    """EXPLAIN of one indicator query and of one interval query as compute_tallies issues them."""
    import psycopg
    from sqlalchemy.dialects import postgresql

    import services.tallies as T
    from domain.indicators import all_intervals, all_measures
    MEASURES, INTERVALS = all_measures(), all_intervals()

    period = T.Period(YEAR, AS_OF)
    captured = []

    class Empty(list):
        def all(self):
            return []

    class Capture:  # a connection that records the statements and returns no rows
        dialect = postgresql.dialect()

        def execute(self, q, *a, **kw):
            captured.append(q)
            return Empty()

    measure = next(m for m in MEASURES if m.code == "patti_attivati_progetto")
    try:
        T._measure_cells(Capture(), measure, period)  # one query per indicator
    except TypeError:
        T._measure_cells(Capture(), (measure,), period)  # one query per case type (the recommended patch)
    T._interval(Capture(), next(i for i in INTERVALS if i.code == "patti_giorni_attivazione_verifica"), period,
                BY, {}, 5)
    out = []
    with psycopg.connect(url) as conn:
        for q in captured:
            sql = str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()
            out.append("-- " + " ".join(sql.split())[:160] + " ...")
            out.extend("   " + r[0] for r in rows)
        conn.rollback()
    return out


def top_profile(path: str, top: int = 25) -> list[str]:
    import pstats

    st = pstats.Stats(path)
    total = st.total_tt
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in st.stats.items():
        short = filename
        for marker in ("/site-packages/", str(REPO) + "/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
        rows.append((cumtime, tottime, ncalls, f"{short}:{line}({func})"))
    lines = [f"cProfile of one compute_tallies run: {total:.2f}s total (profiler overhead included); stats in {path}",
             "  by cumulative time:", f"  {'cum s':>8} {'own s':>8} {'calls':>10}  function"]
    keep = ("services/", "domain/", "store/", "sqlalchemy/engine", "sqlalchemy/sql/compiler", "psycopg/",
            "sqlalchemy/orm", "sqlalchemy/cyextension", "<built-in", "<method")
    interesting = [r for r in rows if any(k in r[3] for k in keep)]
    for cum, own, calls, name in sorted(interesting, reverse=True)[:top]:
        lines.append(f"  {cum:8.3f} {own:8.3f} {calls:10d}  {name}")
    lines.append("  by own time:")
    for cum, own, calls, name in sorted(rows, key=lambda r: -r[1])[:top]:
        lines.append(f"  {cum:8.3f} {own:8.3f} {calls:10d}  {name}")
    return lines


def parts_line(parts: dict[str, float]) -> str:
    ivs = sum(v for k, v in parts.items() if k.startswith("interval "))
    main = [("indicators", parts.get("indicators", 0.0)), ("indicator people", parts.get("people")),
            ("re-referrals", parts.get("re-referrals")),
            ("intervals", ivs), ("deadlines", parts.get("deadlines", 0.0)), ("backlog", parts.get("backlog", 0.0)),
            ("state steps", parts.get("state steps"))]
    main = [(k, v) for k, v in main if v is not None]
    detail = ", ".join(f"{k.removeprefix('interval ')} {v:.2f}" for k, v in parts.items() if k.startswith("interval "))
    return "; ".join(f"{k} {v:.2f}" for k, v in main) + f" (intervals: {detail})"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m bench.tallies", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000, help="cases to load (default 1,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per variant, alternating order (default 3)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL,
                    help="database to DROP and recreate (name must contain 'bench'; default %(default)s)")
    ap.add_argument("--profile", metavar="DIR", help="also profile one compute_tallies run with cProfile")
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE one indicator and one interval query")
    ap.add_argument("--tallies-src", metavar="DIR", help="run the tallies child on another source tree (prototype)")
    ap.add_argument("--label", default="", help="a note for the RESULTS.md heading")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the database (default: dropped)")
    ap.add_argument("--reuse", action="store_true", help="reuse the kept database if loaded with the same parameters")
    args = ap.parse_args(argv)
    global LAUNCH
    LAUNCH = Launcher()  # first, while this process is small
    if args.rounds < 1 or args.cases < 1:
        ap.error("--cases and --rounds must be positive")
    args.pg_url = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
    command = "python -m bench.tallies " + " ".join(argv)
    info = machine(args.pg_url)
    started = datetime.now(UTC)
    print(f"legami tallies benchmark  {started:%Y-%m-%d %H:%M} UTC")
    print(f"  command: {command}")
    print(f"  machine: {info['cpu']}, {info['nproc']} CPUs, {info['memory']}, load average {info['loadavg']}; "
          f"python {info['python']}, sqlalchemy {info['sqlalchemy']}, psycopg {info['psycopg']}; "
          f"postgresql {info['postgresql']}", flush=True)
    key = {"cases": args.cases, "seed": SEED, "as_of": AS_OF.isoformat(), "version": 2}
    data = loaded_dataset(args.pg_url, key, META_TABLE) if args.reuse else None
    if data is None:
        print(f"\n== loading {args.cases:,} cases ...", flush=True)
        data = build_dataset(args.pg_url, args.cases)
        save_meta(args.pg_url, key, data, META_TABLE)
    else:
        print("\n== reusing the database loaded earlier with the same parameters", flush=True)
    print(f"  loaded in {data['setup_s']}s (COPY {data['copy_s']}s): {data['cases']:,} cases {data['by_type']}, "
          f"{data['transitions']:,} transitions ({data['transitions'] / data['cases']:.2f} per case; "
          f"{data['transitions_by_type']}), {data['people']:,} people, {data['deadlines']:,} deadlines "
          f"{data['deadline_status']}; database {data['db_size']} (case_transition {data['transition_table']})",
          flush=True)
    results = {"tallies": [], "raw": []}
    prints: dict[str, dict] = {}
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="legami-tallies-") as tmp:
        plan_path = Path(tmp) / "plan.json"
        plan = write_plan(plan_path)
        order = ["tallies", "raw"]
        for rnd in range(args.rounds):
            for variant in order if rnd % 2 == 0 else order[::-1]:
                r = run_child(variant, args.pg_url, plan_path, src=args.tallies_src if variant == "tallies" else None)
                figures = r.pop("figures")
                if variant in prints and compare(prints[variant], figures):
                    raise AssertionError(f"{variant}: different figures in two rounds: "
                                         f"{compare(prints[variant], figures)[:5]}")
                prints[variant] = figures
                r["load"] = loadavg()
                results[variant].append(r)
                print(f"  round {rnd + 1} {variant:7}: {r['seconds']:8.2f}s  peak RSS {r['peak_rss_mb']:7.1f} MB "
                      f"(after imports {r['rss_after_import_mb']:.0f} MB, imports {r['import_s']:.2f}s)  "
                      f"load {r['load']}\n      {parts_line(r['parts'])}", flush=True)
        diffs = compare(prints["tallies"], prints["raw"])
        if diffs:
            print("  check: tallies and raw DIFFER:\n    " + "\n    ".join(diffs[:40]))
            raise AssertionError(f"{len(diffs)} differences between tallies and raw")
        fig = prints["tallies"]
        n_cells = sum(1 + len(i["righe"]) for i in fig["indicatori"].values())
        n_iv = sum(len(i["lordo"]) + len(i["netto"]) for i in fig["intervalli"].values())
        check = (f"{len(fig['indicatori'])} indicators and ratios ({n_cells} cells), {len(fig['intervalli'])} "
                 f"intervals ({n_iv} cells gross and net), {len(fig['scadenze'])} deadline indicators, "
                 f"{len(fig['arretrato'])} backlog rows"
                 + (f", {len(fig['intervalli_stati'])} state-to-state steps" if "intervalli_stati" in fig else "")
                 + ": identical in both variants")
        print("  check: " + check)
        profile_lines = []
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            prof = str(Path(args.profile).resolve() / f"tallies-{args.cases}.prof")
            run_child("tallies", args.pg_url, plan_path, src=args.tallies_src, profile=prof)
            profile_lines = top_profile(prof)
            for ln in profile_lines:
                print("  " + ln)
        if args.explain:
            for ln in explain(args.pg_url, plan):
                print("  " + ln)
    best = {v: min(results[v], key=lambda x: x["seconds"]) for v in results}
    ratio = best["tallies"]["seconds"] / best["raw"]["seconds"]
    totals = {code: ind["totale"][0] for code, ind in fig["indicatori"].items()}
    ts, ws = [x["seconds"] for x in results["tallies"]], [x["seconds"] for x in results["raw"]]
    print(f"\n  medians: tallies {median(ts):.2f}s ({min(ts):.2f}-{max(ts):.2f}), raw {median(ws):.2f}s "
          f"({min(ws):.2f}-{max(ws):.2f}), ratio {median(ts) / median(ws):.2f}")
    print(f"\n  best: tallies {best['tallies']['seconds']:.2f}s, raw {best['raw']['seconds']:.2f}s, ratio {ratio:.2f} "
          f"(goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'}); peak RSS tallies "
          f"{max(x['peak_rss_mb'] for x in results['tallies']):.0f} MB, raw "
          f"{max(x['peak_rss_mb'] for x in results['raw']):.0f} MB; load average {load_before} -> {loadavg()}")
    if not args.no_record:
        record(args, info, data, results, best, ratio, check, totals, command, started, load_before)
    LAUNCH.close()
    if not args.keep:
        drop_database(args.pg_url)
    return 0


def record(args, info, data, results, best, ratio, check, totals, command, started, load_before) -> None:
    t, w = best["tallies"], best["raw"]
    ts, ws = [x["seconds"] for x in results["tallies"]], [x["seconds"] for x in results["raw"]]
    lines = ["", f"## Tallies (bench/tallies.py){' -- ' + args.label if args.label else ''}", "",
             f"`{command}` -- {started:%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {info['cpu']}, {info['nproc']} CPUs, {info['memory']} RAM, load average {load_before} "
             f"before the runs and {loadavg()} at the end (shared machine: other benchmarks may run); Python "
             f"{info['python']}, SQLAlchemy {info['sqlalchemy']}, psycopg {info['psycopg']}; PostgreSQL "
             f"{info['postgresql']}.", "",
             f"Data: {data['cases']:,} cases {data['by_type']}, {data['transitions']:,} transitions "
             f"({data['transitions'] / data['cases']:.2f} per case), {data['people']:,} people, {data['deadlines']:,} "
             f"deadlines {data['deadline_status']}; database {data['db_size']} (case_transition "
             f"{data['transition_table']}); loaded with COPY in {data['setup_s']} s. compute_tallies(year={YEAR}, "
             f"as_of={AS_OF}, by=\"{BY}\") against hand-written SQL through psycopg; each variant in its own "
             f"subprocess, best of {args.rounds}, alternating order; time excludes imports. Goal: tallies <= "
             f"{GOAL}x raw.", "",
             "| cases | transitions | tallies s | raw s | ratio | tallies peak RSS MB | raw peak RSS MB |",
             "|---:|---:|---:|---:|---:|---:|---:|",
             f"| {data['cases']:,} | {data['transitions']:,} | {t['seconds']:.2f} | {w['seconds']:.2f} | {ratio:.2f} | "
             f"{max(x['peak_rss_mb'] for x in results['tallies']):.0f} | "
             f"{max(x['peak_rss_mb'] for x in results['raw']):.0f} |", "",
             f"- runs: tallies {[round(x['seconds'], 2) for x in results['tallies']]} s, raw "
             f"{[round(x['seconds'], 2) for x in results['raw']]} s; load average after each run: tallies "
             f"{[x['load'].split()[0] for x in results['tallies']]}, raw "
             f"{[x['load'].split()[0] for x in results['raw']]}.",
             f"- medians: tallies {median(ts):.2f} s ({min(ts):.2f}-{max(ts):.2f}), raw {median(ws):.2f} s "
             f"({min(ws):.2f}-{max(ws):.2f}), ratio of the medians {median(ts) / median(ws):.2f}.",
             f"- by part, best tallies run: {parts_line(t['parts'])}.",
             f"- by part, best raw run: {parts_line(w['parts'])}.",
             f"- RSS after imports: tallies {t['rss_after_import_mb']:.0f} MB, raw {w['rss_after_import_mb']:.0f} MB; "
             f"imports {t['import_s']:.2f} s / {w['import_s']:.2f} s.",
             f"- check: {check}. Goal {'met' if ratio <= GOAL else 'NOT met'} ({ratio:.2f}x).",
             "- totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()) + "."]
    if args.tallies_src:
        lines.append(f"- tallies child run against the source tree {args.tallies_src} (prototype), not this "
                     "repository.")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"\nappended to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
