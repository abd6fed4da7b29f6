"""The daily deadline sweep over 100k / 1M open cases on PostgreSQL: time and peak RSS vs raw SQL.

    python -m bench.sweep --cases 100000 1000000 [--rounds 2] [--statements] [--profile DIR] [--explain]
                          [--sweep-src DIR] [--keep] [--reuse] [--no-record]

For each size, a fresh database (`--pg-url`, default legami_bench_sweep, dropped and created; not timed):
`init_database`, a social worker and a coordinator per sub-ambito plus a planning_office user, then N open
patto cases loaded with COPY through psycopg (not through the service layer): a person each, case_file
ACTIVE with the comune drawn by population over the 48 comuni, owner = the sub-ambito's social worker,
policy 2025.1, a small JSON `data`; ONE open deadline each ("monitoraggio", configured) due uniformly in
[as_of-30d, as_of+365d] and moved to the comune's next working day (so ~4% fall in the 14-day lookahead
and ~8% are overdue). The steady state of a daily sweep is loaded too: every reminder stage an earlier
daily run would have logged (T-5 / T-1 working days, with their sent digests), half of the overdue
deadlines (due before yesterday) already escalated ("scaduta" to owner and coordinator), and, with
`--outbox-history K`, K sent notification rows per case in the outbox (the table is never purged).

Then each variant runs in its OWN fresh subprocess on the same restored state (the rows a previous
variant wrote -- reminder_log rows queued on as_of and that day's digest outbox rows -- are deleted and
both tables vacuumed before every run), so that peak RSS (getrusage(RUSAGE_SELF).ru_maxrss in the child,
cross-checked with VmHWM) is per variant. The children are started by a small launcher process forked
before the parent loads anything: Linux carries a parent's RSS at fork into the child's ru_maxrss. Time is perf_counter inside the child around the work only; the child's import time
(from its first line to the end of its imports) and RSS after imports are reported apart:

* sweep: `services.sweep.run_deadline_sweep(engine, as_of=...)` (automatic steps, T-n reminders,
         escalations; keyset batches of --batch-size; the log rows and digests written in transactions
         of up to services.sweep.PER_TRANSACTION deadlines, one digest upsert statement per transaction).
* raw:   the same work by hand through psycopg 3: the same automatic-step query, the same keyset batch
         queries (lookahead window joined with case/person; overdue with NOT EXISTS on reminder_log), the
         same earlier-reminder lookup, the same working-day stage rule (domain.calendar, cached per
         (due, comune)), the same reminder_log rows (one INSERT ... SELECT FROM unnest ... ON CONFLICT (key)
         DO NOTHING RETURNING key per batch: the idempotency check and the write at once), the same digest
         items, one outbox row per recipient per day (INSERT ... ON CONFLICT (idempotency_key) DO UPDATE that
         appends the batch's items server-side), one transaction per batch. Recipients are precomputed by
         the parent through services.directory (not timed). This is the lower bound.

Rounds alternate which variant goes first. The run checks itself: both variants must queue exactly the
same reminder_log rows (key, deadline, stage, recipient, digest key) and the same digests (recipient,
payload, every item), compared by fingerprint in PostgreSQL. The table reports the best time per variant
and the peak RSS; figures (and the command) are appended to bench/RESULTS.md unless --no-record.

`--statements` runs one more child per variant that times each statement family inside execute;
`--profile DIR` one more sweep (and raw) child under cProfile (stats in DIR/<variant>-<N>.prof), printing
the sweep's top costs; `--explain` prints EXPLAIN ANALYZE of the batch queries and of the digest lookup.
`--sweep-src DIR` runs the sweep child against another source tree (a scratch copy with a prototype
change; its services/ etc. come first on sys.path); the raw child and the loader always use this
repository. `--keep` keeps the database, `--reuse` (one size) skips loading when the kept database was
loaded with the same parameters.
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
DEFAULT_PG_URL = os.environ.get("LEGAMI_BENCH_SWEEP_PG_URL",
                                "postgresql://postgres@127.0.0.1:5432/legami_bench_sweep")
GOAL = 1.5  # sweep time / raw time
AS_OF = date(2026, 4, 1)  # a Wednesday; the lookahead holds Easter Monday (6 April 2026)
LOOKAHEAD_DAYS = 14  # services.sweep.LOOKAHEAD_DAYS (checked by the raw child)
EARLIEST, LATEST = -30, 365  # due dates: as_of + uniform[EARLIEST, LATEST] days
SEED = 20260401
SURNAMES = ("Bianchi", "Rossi", "Verdi", "Ferrari", "Russo", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
            "Galli", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri")
NAMES = ("Mario", "Giulia", "Luca", "Anna", "Marco", "Sara", "Paolo", "Elena", "Giorgio", "Chiara", "Ahmed",
         "Fatima", "Ion", "Maria")
UTC = timezone.utc
META_TABLE = "bench_sweep_meta"  # marks a kept database as loaded (--keep / --reuse)


# ====================================================================== children (one variant each)


def child_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.sweep child")
    ap.add_argument("variant", choices=("sweep", "raw"))
    ap.add_argument("--url", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--profile")
    ap.add_argument("--statements", action="store_true", help="time every statement by shape")
    args = ap.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text())
    out = (child_sweep if args.variant == "sweep" else child_raw)(args.url, plan, args.profile, args.statements)
    out["peak_rss_mb"] = round(mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1)
    out["vm_hwm_mb"] = round(vm_hwm_mb(), 1)  # the same peak from /proc (this mm only): a cross-check
    print("RESULT " + json.dumps(out), flush=True)
    return 0


def shape(sql: str) -> str:
    """A statement's family: verb, table, and what makes it differ (NOT EXISTS, LIKE, IN list)."""
    import re

    s = " ".join(sql.split())
    verb = s.split(" ", 1)[0]
    m = re.search(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)", s) if verb != "SELECT" else re.search(r" FROM (\w+)", s)
    flags = [f for f, probe in (("NOT EXISTS", "NOT (EXISTS"), ("LIKE", " LIKE "), ("IN-list", " IN (__[POSTCOMPILE")
                                ) if probe in s]
    if verb == "SELECT" and " IN (" in s and "IN-list" not in flags:
        flags.append("IN-list")
    if verb == "SELECT":  # the first selected column tells the lookups on one table apart
        verb = "SELECT " + s.split(" ")[1].rstrip(",")
    return " ".join([verb, m.group(1) if m else "?", *flags])


def child_sweep(url: str, plan: dict, profile: str | None, statements: bool = False) -> dict:
    import services.sweep as sweep_mod
    from services.sweep import run_deadline_sweep
    from store.db import make_engine

    t_imported = time.perf_counter()
    rss_imported = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert sweep_mod.LOOKAHEAD_DAYS == plan["lookahead"], "services.sweep.LOOKAHEAD_DAYS moved"
    as_of = date.fromisoformat(plan["as_of"])
    engine = make_engine(url)
    stmt: dict[str, list] = {}
    if statements:
        from sqlalchemy import event

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("bench_t", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            dt = time.perf_counter() - conn.info["bench_t"].pop()
            e = stmt.setdefault(shape(statement) + (" (executemany)" if executemany else ""), [0, 0.0])
            e[0] += 1
            e[1] += dt
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    result = run_deadline_sweep(engine, as_of=as_of, batch_size=plan["batch_size"])
    seconds = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    engine.dispose()
    return {"variant": "sweep", "source": str(Path(sweep_mod.__file__).resolve().parent.parent),
            "import_s": round(t_imported - T_MODULE, 3), "rss_after_import_mb": round(rss_imported, 1),
            "seconds": seconds, "scanned": result.scanned, "queued": result.queued,
            "reminders": result.reminders, "escalations": result.escalations, "fired": len(result.fired),
            "refused": len(result.refused), "statements": stmt}


# --- the raw lower bound: hand-written SQL through psycopg, the same statements' work

RAW_AUTOMATIC = (
    "SELECT d.case_id, d.kind, d.due, c.case_type, c.state, c.state_since FROM deadline d "
    "JOIN case_file c ON c.id = d.case_id "
    "WHERE d.status = 'open' AND d.due <= %s AND d.kind = ANY(%s) ORDER BY d.due, d.id"
)
RAW_COLUMNS = (
    "SELECT d.id, d.case_id, d.kind, d.label, d.due, d.source, c.case_type, c.state, c.owner, c.comune_istat, "
    "c.provider_codice, p.cognome, p.nome FROM deadline d JOIN case_file c ON c.id = d.case_id "
    "LEFT OUTER JOIN person p ON p.id = c.person_id "
)
RAW_WINDOW = RAW_COLUMNS + (
    "WHERE d.status = 'open' AND d.due >= %s AND d.due <= %s AND d.id > %s ORDER BY d.id LIMIT %s"
)
RAW_OVERDUE = RAW_COLUMNS + (
    "WHERE d.status = 'open' AND d.due < %s AND NOT (EXISTS (SELECT 1 FROM reminder_log r "
    "WHERE r.deadline_id = d.id AND r.stage = 'scaduta')) AND d.id > %s ORDER BY d.id LIMIT %s"
)
RAW_EARLIER = "SELECT deadline_id, recipient, queued_on FROM reminder_log WHERE deadline_id = ANY(%s)"
RAW_LOG = (
    "INSERT INTO reminder_log (key, deadline_id, stage, recipient, queued_on, digest_key) "
    "SELECT * FROM unnest(%s::varchar[], %s::int[], %s::varchar[], %s::varchar[], %s::date[], %s::varchar[]) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
RAW_DIGEST = (
    "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, status, "
    "attempts, next_attempt_at) VALUES (%s, 'digest', NULL, %s, 'digest', %s::jsonb, %s, 'pending', 0, %s) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET payload = jsonb_set(outbox.payload, '{voci}', "
    "(outbox.payload -> 'voci') || (excluded.payload -> 'voci')) WHERE outbox.status = 'pending'"
)


def child_raw(url: str, plan: dict, profile: str | None, statements: bool = False) -> dict:
    from collections import defaultdict

    import psycopg

    from domain.calendar import WorkingCalendar, working_days_between

    t_imported = time.perf_counter()
    rss_imported = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    as_of = date.fromisoformat(plan["as_of"])
    day = as_of.isoformat()
    batch = plan["batch_size"]
    before = sorted(plan["before_working_days"])
    recipients = plan["recipients"]  # key -> {"email", "payload"}
    owner_rcpt = plan["owner"]  # owner username -> recipient keys
    coord_rcpt = plan["coordinators"]  # comune -> recipient keys (owner fallback and escalation)
    statutory_rcpt = plan["statutory"]  # recipient keys of the statutory escalation
    names, labels = plan["comune_names"], plan["workflow_labels"]
    calendar = WorkingCalendar(patron_days={k: tuple(v) for k, v in plan["patron_days"].items()},
                               saturday_is_working=plan["saturday_is_working"])
    stages: dict[tuple[date, str], str | None] = {}

    def stage_of(due: date, comune: str) -> str | None:
        k = (due, comune)
        if k not in stages:
            left = working_days_between(calendar, as_of, due, comune)
            reached = [n for n in before if left <= n]
            stages[k] = f"T-{reached[0]}" if reached and left >= 0 else None
        return stages[k]

    def item(r, categoria: str, earlier: list) -> dict:
        return {"categoria": categoria, "caso_id": r[1], "tipo_caso": labels[r[6]], "etichetta": r[3],
                "scadenza": r[4].isoformat(), "giorni": (r[4] - as_of).days, "comune": names.get(r[9]),
                "fonte": r[5], "persona": f"{r[11][:1]}. {r[12][:1]}." if r[11] else None,
                "link": f"/casi/{r[1]}", "promemoria_precedenti": earlier}

    stmt: dict[str, list] = {}

    def ex(label: str, conn, sql: str, params=None, many: bool = False):
        t = time.perf_counter() if statements else 0.0
        if many:
            conn.cursor().executemany(sql, params)
            cur = None
        else:
            cur = conn.execute(sql, params)
        if statements:
            e = stmt.setdefault(label, [0, 0.0])
            e[0] += 1
            e[1] += time.perf_counter() - t
        return cur

    counts = {"scanned": 0, "queued": 0, "reminders": 0, "escalations": 0, "fired": 0, "refused": 0}

    def write(conn, pending: list[tuple[str, int, str, str, object]]) -> int:
        """pending: (log key, deadline id, stage, recipient key, item or item thunk), in book order."""
        if not pending:
            return 0
        seen: set[str] = set()
        rows = []
        for p in pending:  # the book keeps each key once (the first)
            if p[0] not in seen:
                seen.add(p[0])
                rows.append(p)
        fresh = {k for (k,) in ex("INSERT reminder_log ON CONFLICT DO NOTHING RETURNING (unnest)", conn, RAW_LOG, (
            [p[0] for p in rows], [p[1] for p in rows], [p[2] for p in rows], [p[3] for p in rows],
            [as_of] * len(rows), [f"digest:{p[3]}:{day}" for p in rows])).fetchall()}
        by_rcpt: dict[str, list] = defaultdict(list)
        for p in rows:
            if p[0] in fresh:
                by_rcpt[p[3]].append(p[4]() if callable(p[4]) else p[4])
        now = datetime.now(UTC)
        params = []
        for key, items in by_rcpt.items():
            rc = recipients[key]
            payload = {"destinatario": rc["payload"], "giorno": day, "voci": items}
            params.append((f"digest:{key}:{day}", rc["email"], json.dumps(payload), now, now))
        if params:
            ex("INSERT outbox ON CONFLICT DO UPDATE (executemany)", conn, RAW_DIGEST, params, many=True)
        return len(fresh)

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        ex("SELECT deadline (automatic)", conn, RAW_AUTOMATIC, (as_of, plan["automatic_kinds"])).fetchall()  # nothing fires here
        conn.commit()
        t1 = time.perf_counter()
        last = 0
        while True:  # T-n working days reminders
            rows = ex("SELECT deadline (window)", conn, RAW_WINDOW, (as_of, as_of + timedelta(days=plan["lookahead"]), last, batch)).fetchall()
            conn.commit()
            if not rows:
                break
            counts["scanned"] += len(rows)
            pending = []
            for r in rows:
                stage = stage_of(r[4], r[9])
                if stage is None:
                    continue
                for who in owner_rcpt.get(r[8], coord_rcpt.get(r[9], [])) if r[8] else coord_rcpt.get(r[9], []):
                    pending.append((f"scadenza:{r[0]}:{stage}:{who}", r[0], stage, who,
                                    lambda r=r: item(r, "scadenza", [])))
            q = write(conn, pending)
            conn.commit()
            counts["reminders"] += q
            last = rows[-1][0]
        t2 = time.perf_counter()
        last = 0
        while True:  # escalations of the overdue not yet escalated
            rows = ex("SELECT deadline NOT EXISTS", conn, RAW_OVERDUE, (as_of, last, batch)).fetchall()
            if not rows:
                conn.commit()
                break
            counts["scanned"] += len(rows)
            logged: dict[int, list] = defaultdict(list)
            for dl, rcpt, on in ex("SELECT reminder_log = ANY", conn, RAW_EARLIER, ([r[0] for r in rows],)):
                logged[dl].append((on, rcpt))
            conn.commit()
            pending = []
            for r in rows:
                earlier = [{"destinatario": rc.removeprefix("email:"), "il": on.isoformat()}
                           for on, rc in sorted(logged.get(r[0], []), key=lambda x: x[0])]
                if r[8]:
                    for who in owner_rcpt.get(r[8], coord_rcpt.get(r[9], [])):
                        pending.append((f"scadenza:{r[0]}:scaduta:{who}", r[0], "scaduta", who,
                                        lambda r=r: item(r, "scaduta", [])))
                targets = [("scaduta", coord_rcpt.get(r[9], []))]
                if r[5] == "statutory":
                    targets.append(("normativa", statutory_rcpt))
                for stage, whos in targets:
                    for who in whos:
                        pending.append((f"scadenza:{r[0]}:{stage}:{who}", r[0], stage, who,
                                        lambda r=r, e=earlier: item(r, "escalation", e)))
            q = write(conn, pending)
            conn.commit()
            counts["escalations"] += q
            last = rows[-1][0]
    seconds = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    counts["queued"] = counts["reminders"] + counts["escalations"]
    phases = {"automatic": t1 - t0, "remind": t2 - t1, "escalate": seconds - (t2 - t0)}
    return {"variant": "raw", "import_s": round(t_imported - T_MODULE, 3),
            "rss_after_import_mb": round(rss_imported, 1), "seconds": seconds,
            "phases": {k: round(v, 3) for k, v in phases.items()}, "statements": stmt, **counts}


# ====================================================================== parent: data set


def build_dataset(url: str, n: int, as_of: date, outbox_per_case: int, workers_per_area: int = 1) -> dict:
    """Fresh database, users, N cases with one open deadline each, the steady-state reminder log."""
    import random
    from collections import Counter

    import psycopg

    from config.obligation_files import load_reminder_policy
    from domain.calendar import WorkingCalendar, working_days_between
    from domain.registry import get_workflow
    from services.setup import ensure_user, init_database
    from store.db import make_engine

    t0 = time.perf_counter()
    recreate_database(url)
    engine = make_engine(url)
    district = init_database(url, engine)
    areas = [s.nome for s in district.sub_ambiti]
    workers = {a: [f"as.{slug(a)}" + (f".{k}" if k else "") for k in range(workers_per_area)] for a in areas}
    coord = {a: f"coord.{slug(a)}" for a in areas}
    with engine.begin() as conn:
        for a in areas:
            for w in workers[a]:
                ensure_user(conn, w, f"Assistente sociale {w}", f"{w}@example.org", "social_worker", a)
            ensure_user(conn, coord[a], f"Coordinatore {a}", f"{coord[a]}@example.org", "subarea_coordinator", a)
        ensure_user(conn, "udp.bench", "Ufficio di Piano", "udp.bench@example.org", "planning_office")
    engine.dispose()

    policy = load_reminder_policy()
    rule = get_workflow("patto").deadline_rules()["monitoraggio"]
    comuni = list(district.comuni)
    area_of = {c.istat: c.sub_ambito for c in comuni}
    calendar = WorkingCalendar(patron_days={c.istat: c.patrono_mmdd for c in comuni if c.patrono_mmdd},
                               comune_names={c.istat: c.nome for c in comuni})
    rng = random.Random(SEED + n)
    where = rng.choices([c.istat for c in comuni], weights=[c.popolazione for c in comuni], k=n)
    offsets = [rng.randint(EARLIEST, LATEST) for _ in range(n)]
    escalated_draw = [rng.random() < 0.5 for _ in range(n)]
    due_cache: dict[tuple[int, str], date] = {}
    history_cache: dict[tuple[date, str], list[tuple[str, date]]] = {}

    def due_of(off: int, comune: str) -> date:
        k = (off, comune)
        if k not in due_cache:
            due_cache[k] = calendar.next_working_day(as_of + timedelta(days=off), comune)
        return due_cache[k]

    def history(due: date, comune: str) -> list[tuple[str, date]]:
        """The stages earlier daily sweeps logged (first day each was reached), before as_of."""
        k = (due, comune)
        if k not in history_cache:
            seen, out = set(), []
            s = due - timedelta(days=25)
            while s < as_of and s <= due:
                st = policy.stage_before(working_days_between(calendar, s, due, comune))
                if st and st not in seen:
                    seen.add(st)
                    out.append((st, s))
                s += timedelta(days=1)
            history_cache[k] = out
        return history_cache[k]

    opened = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

    def owner_of(i: int) -> str:
        ws = workers[area_of[where[i]]]
        return ws[(i // 7) % len(ws)]

    log_rows: list[tuple] = []
    digests_sent: set[tuple[str, date]] = set()
    stats = Counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # generated consistently: skip FK triggers
        default_ambito(conn)  # the generated cases are the default Ambito's (case_file.ambito_code, 0018)
        with conn.cursor().copy("COPY person (id, codice_fiscale, cognome, nome, data_nascita, provisional_code) "
                                "FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((i + 1, f"BNCSWP{i:010d}", SURNAMES[i % len(SURNAMES)],
                              NAMES[(i // len(SURNAMES)) % len(NAMES)],
                              date(1940, 1, 1) + timedelta(days=(i * 7919) % 29000), False))
        with conn.cursor().copy("COPY case_file (id, case_type, kind, state, comune_istat, person_id, owner, "
                                "policy_version, opened_at, state_since, data, version) FROM STDIN") as cp:
            for i in range(n):
                start = opened + timedelta(days=i % 300)
                kind = "inclusione" if i % 3 else "autonomia"
                data = ('{"tipologia": "%s", "data_inizio": "%s", "data_fine": "%s", "importo_mensile": "500.00"}'
                        % (kind, (start + timedelta(days=10)).date(), (start + timedelta(days=190)).date()))
                cp.write_row((i + 1, "patto", kind, "ACTIVE", where[i], i + 1, owner_of(i),
                              "2025.1", start, start + timedelta(days=20), data, 4))
        with conn.cursor().copy("COPY deadline (id, case_id, kind, label, due, basis, source, status, "
                                "started_seq, suspended_days) FROM STDIN") as cp:
            for i in range(n):
                comune = where[i]
                due = due_of(offsets[i], comune)
                cp.write_row((i + 1, i + 1, rule.kind, rule.label, due, rule.basis.value, rule.source.value,
                              "open", 4, 0))
                if due > as_of + timedelta(days=LOOKAHEAD_DAYS):
                    continue
                owner = owner_of(i)
                for st, on in history(due, comune):
                    log_rows.append((f"scadenza:{i + 1}:{st}:{owner}", i + 1, st, owner, on))
                if due < as_of:
                    stats["overdue"] += 1
                    if due <= as_of - timedelta(days=2) and escalated_draw[i]:
                        stats["escalated"] += 1
                        on = due + timedelta(days=1)
                        for who in (owner, coord[area_of[comune]]):
                            log_rows.append((f"scadenza:{i + 1}:scaduta:{who}", i + 1, "scaduta", who, on))
                else:
                    stats["window"] += 1
        with conn.cursor().copy("COPY reminder_log (key, deadline_id, stage, recipient, queued_on, digest_key) "
                                "FROM STDIN") as cp:
            for key, dl, st, who, on in log_rows:
                digests_sent.add((who, on))
                cp.write_row((key, dl, st, who, on, f"digest:{who}:{on.isoformat()}"))
        emails = {u: f"{u}@example.org" for u in [*(w for ws in workers.values() for w in ws), *coord.values()]}
        with conn.cursor().copy("COPY outbox (idempotency_key, event, case_id, recipient, template, payload, "
                                "created_at, status, attempts, next_attempt_at, sent_at) FROM STDIN") as cp:
            for who, on in sorted(digests_sent):
                at = datetime(on.year, on.month, on.day, 5, 0, tzinfo=UTC)
                cp.write_row((f"digest:{who}:{on.isoformat()}", "digest", None, emails[who], "digest",
                              json.dumps({"destinatario": {"username": who}, "giorno": on.isoformat(), "voci": []}),
                              at, "sent", 1, at, at))
            for k in range(outbox_per_case):
                for i in range(n):
                    at = opened + timedelta(days=i % 300, minutes=k)
                    cp.write_row((f"patto.assegna:{i + 1}:{k}", "patto.assegna", i + 1,
                                  emails[owner_of(i)], "assegnazione",
                                  '{"caso_id": %d, "tipo_caso": "patto"}' % (i + 1), at, "sent", 1, at, at))
        for table in ("person", "case_file", "deadline", "reminder_log", "outbox"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    return {"cases": n, "overdue": stats["overdue"], "already_escalated": stats["escalated"],
            "in_window": stats["window"], "history_log_rows": len(log_rows), "db_size": size,
            "outbox_rows": len(digests_sent) + n * outbox_per_case, "setup_s": round(time.perf_counter() - t0, 1)}


def write_plan(url: str, path: Path, as_of: date, batch_size: int) -> None:
    """What the raw child needs, precomputed through the project (not timed): recipients, calendar data."""
    import sqlalchemy as sa

    from config.obligation_files import load_reminder_policy
    from domain.registry import all_workflows
    from services.directory import Directory
    from store.db import make_engine
    from store.tables import Comune

    policy = load_reminder_policy()
    engine = make_engine(url)
    with engine.connect() as conn:
        d = Directory(conn)
        patron = {r.istat: [int(x) for x in r.patrono_mmdd.split("-")]
                  for r in conn.execute(sa.select(Comune.__table__)) if r.patrono_mmdd}
    engine.dispose()
    recipients: dict[str, dict] = {}

    def keys(found) -> list[str]:
        for r in found:
            recipients[r.key] = {"email": r.email, "payload": r.as_payload()}
        return [r.key for r in found]

    owners = {u: keys(d.resolve("owner", owner=u)) for u in d.users}
    coords = {c: keys(d.resolve(policy.overdue_role, comune=c)) for c in d.comune_area}
    owner_fallback = {c: keys(d.resolve("owner", comune=c, owner=None)) for c in d.comune_area}
    assert owner_fallback == coords, "the raw plan assumes the owner fallback is the escalation role"
    assert policy.recipients_before("patto", "monitoraggio", True) == ("owner",), "reminders no longer to the owner"
    plan = {
        "as_of": as_of.isoformat(), "lookahead": LOOKAHEAD_DAYS, "batch_size": batch_size,
        "before_working_days": list(policy.before_working_days),
        "automatic_kinds": sorted({r.kind for wf in all_workflows() for r in wf.deadline_rules().values() if r.fires}),
        "recipients": recipients, "owner": owners, "coordinators": coords,
        "statutory": keys(d.resolve(policy.statutory_role)),
        "comune_names": d.comune_name, "patron_days": patron, "saturday_is_working": False,
        "workflow_labels": {wf.case_type: wf.label for wf in all_workflows()},
    }
    path.write_text(json.dumps(plan))


# ====================================================================== parent: runs, checks, report


def restore(url: str, as_of: date) -> None:
    """Back to the loaded state: drop what a variant queued today, vacuum the two tables it wrote."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM reminder_log WHERE queued_on = %s", (as_of,))
        conn.execute("DELETE FROM outbox WHERE idempotency_key LIKE %s", (f"digest:%:{as_of.isoformat()}%",))
        conn.execute("VACUUM (ANALYZE) reminder_log")
        conn.execute("VACUUM (ANALYZE) outbox")
        conn.execute("CHECKPOINT")


def fingerprint(url: str, as_of: date) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        logs, logs_md5 = conn.execute(
            "SELECT count(*), md5(coalesce(string_agg(key || '|' || coalesce(deadline_id::text, '') || '|' || stage "
            "|| '|' || recipient || '|' || digest_key, E'\\n' ORDER BY key), '')) FROM reminder_log "
            "WHERE queued_on = %s", (as_of,)).fetchone()
        by_stage = dict(conn.execute("SELECT stage, count(*) FROM reminder_log WHERE queued_on = %s GROUP BY stage",
                                     (as_of,)).fetchall())
        digests, items, digests_md5 = conn.execute(
            "SELECT count(*), coalesce(sum(n), 0), md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM ("
            " SELECT jsonb_array_length(payload -> 'voci') AS n, idempotency_key || '|' || event || '|' || recipient "
            " || '|' || template || '|' || status || '|' || (payload - 'voci')::text || '|' || coalesce(("
            "  SELECT string_agg(v::text, ',' ORDER BY v::text) FROM jsonb_array_elements(payload -> 'voci') v), '')"
            " AS x FROM outbox WHERE idempotency_key LIKE %s) s", (f"digest:%:{as_of.isoformat()}%",)).fetchone()
        changed = conn.execute("SELECT count(*) FROM deadline WHERE status <> 'open'").fetchone()[0]
    return {"log_rows": logs, "log_md5": logs_md5, "by_stage": by_stage, "digests": digests,
            "digest_items": int(items), "digest_md5": digests_md5, "deadlines_closed": changed}


LAUNCH: Launcher | None = None


def run_child(variant: str, url: str, plan: Path, src: str | None = None, profile: str | None = None,
              statements: bool = False) -> dict:
    paths = [str(REPO)] if not src else [str(Path(src).resolve()), str(REPO)]
    boot = (f"import sys; sys.path[:0] = {paths!r}; import bench.sweep as m; "
            "sys.exit(m.child_main(sys.argv[1:]))")
    cmd = [sys.executable, "-c", boot, variant, "--url", url, "--plan", str(plan)]
    if profile:
        cmd += ["--profile", profile]
    if statements:
        cmd.append("--statements")
    rc, stdout, stderr = LAUNCH.run(cmd, tempfile.gettempdir())
    if rc != 0:
        raise RuntimeError(f"{variant} child failed ({rc}):\n{stdout}\n{stderr}")
    line = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def explain(url: str, as_of: date, batch_size: int) -> list[str]:
    import psycopg

    out = []
    with psycopg.connect(url) as conn:
        for label, sql, params in (
            ("lookahead batch 1", RAW_WINDOW, (as_of, as_of + timedelta(days=LOOKAHEAD_DAYS), 0, batch_size)),
            ("overdue batch 1", RAW_OVERDUE, (as_of, 0, batch_size)),
            ("digest lookup (store.digest.queue)",
             "SELECT id, status, payload, idempotency_key FROM outbox WHERE idempotency_key LIKE %s "
             "ORDER BY id DESC LIMIT 1", (f"digest:as.crema:{as_of.isoformat()}%",)),
        ):
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params).fetchall()
            out.append(f"-- {label}")
            out.extend("   " + r[0] for r in plan)
        conn.rollback()
    return out


def top_profile(path: str, top: int = 22) -> list[str]:
    import io
    import pstats

    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf)
    total = st.total_tt
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in st.stats.items():
        short = filename
        for marker in ("/site-packages/", str(REPO) + "/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
        rows.append((cumtime, tottime, ncalls, f"{short}:{line}({func})"))
    lines = [f"cProfile of one sweep run: {total:.2f}s total (profiler overhead included); stats in {path}",
             "  by cumulative time:", f"  {'cum s':>8} {'own s':>8} {'calls':>9}  function"]
    interesting = [r for r in rows if any(k in r[3] for k in ("services/", "domain/", "store/", "sqlalchemy/engine",
                                                                "sqlalchemy/sql/compiler", "psycopg/", "json/",
                                                                "holidays/"))]
    for cum, own, calls, name in sorted(interesting, reverse=True)[:top]:
        lines.append(f"  {cum:8.3f} {own:8.3f} {calls:9d}  {name}")
    lines.append("  by own time:")
    for cum, own, calls, name in sorted(rows, key=lambda r: -r[1])[:top]:
        lines.append(f"  {cum:8.3f} {own:8.3f} {calls:9d}  {name}")
    return lines


def machine(url: str) -> dict:
    import psycopg
    import sqlalchemy

    cpu, mem = cpu_and_memory()
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(url, dbname="postgres")) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        sb = conn.execute("SHOW shared_buffers").fetchone()[0]
        wm = conn.execute("SHOW work_mem").fetchone()[0]
        coll = conn.execute("SELECT datcollate FROM pg_database WHERE datname = 'template1'").fetchone()[0]
    return {"cpu": cpu, "nproc": os.cpu_count(), "memory": mem, "loadavg": loadavg(), "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__, "psycopg": psycopg.__version__,
            "postgresql": f"{server} (127.0.0.1, shared_buffers {sb}, work_mem {wm}, collation {coll})"}


def bench_size(n: int, args, plan_path: Path) -> dict:
    url = args.pg_url
    key = {"cases": n, "as_of": args.as_of.isoformat(), "outbox_history": args.outbox_history,
           "workers_per_area": args.workers_per_area, "seed": SEED, "due": [EARLIEST, LATEST]}
    data = loaded_dataset(url, key, META_TABLE) if args.reuse else None
    if data is None:
        print(f"\n== {n:,} cases: loading ...", flush=True)
        data = build_dataset(url, n, args.as_of, args.outbox_history, args.workers_per_area)
        save_meta(url, key, data, META_TABLE)
    else:
        print(f"\n== {n:,} cases: reusing the database loaded earlier with the same parameters", flush=True)
    print(f"  loaded in {data['setup_s']}s: {data['in_window']:,} deadlines in the lookahead window, "
          f"{data['overdue']:,} overdue ({data['already_escalated']:,} already escalated), "
          f"{data['history_log_rows']:,} reminder_log rows of earlier days, {data['outbox_rows']:,} outbox rows, "
          f"database {data['db_size']}", flush=True)
    write_plan(url, plan_path, args.as_of, args.batch_size)
    runs: dict[str, list[dict]] = {"sweep": [], "raw": []}
    prints: dict[str, dict] = {}
    order = ["sweep", "raw"]
    for rnd in range(args.rounds):
        for variant in order if rnd % 2 == 0 else order[::-1]:
            restore(url, args.as_of)
            r = run_child(variant, url, plan_path, src=args.sweep_src if variant == "sweep" else None)
            fp = fingerprint(url, args.as_of)
            r["fingerprint"] = fp
            if variant in prints and prints[variant] != fp:
                raise AssertionError(f"{variant} queued different rows in two rounds: {prints[variant]} vs {fp}")
            prints[variant] = fp
            runs[variant].append(r)
            extra = f"  phases {r['phases']}" if "phases" in r else ""
            print(f"  round {rnd + 1} {variant:5}: {r['seconds']:8.3f}s  peak RSS {r['peak_rss_mb']:7.1f} MB "
                  f"[VmHWM {r['vm_hwm_mb']:.1f}] (after imports {r['rss_after_import_mb']:.1f} MB, imports {r['import_s']:.2f}s)  "
                  f"scanned {r['scanned']:,}  queued {r['queued']:,}{extra}", flush=True)
    s, w = prints["sweep"], prints["raw"]
    same = s == w
    print(f"  check: sweep queued {s['log_rows']:,} reminder_log rows {s['by_stage']} in {s['digests']} digests "
          f"({s['digest_items']:,} items); raw {w['log_rows']:,} in {w['digests']} digests "
          f"({w['digest_items']:,} items): {'identical rows and payloads' if same else 'DIFFERENT'}")
    if not same:
        raise AssertionError(f"sweep and raw differ:\n  sweep {s}\n  raw   {w}")
    assert s["log_rows"] == runs["sweep"][0]["queued"] == runs["raw"][0]["queued"], "queued count != log rows"
    assert all(r["fired"] == 0 and r["refused"] == 0 for r in runs["sweep"]), "the sweep fired automatic steps"
    out = {"cases": n, "data": data, "runs": runs, "check": s}
    if args.explain:
        restore(url, args.as_of)
        out["explain"] = explain(url, args.as_of, args.batch_size)
        for ln in out["explain"]:
            print("  " + ln)
    if args.statements:
        out["statements"] = {}
        for variant in ("sweep", "raw"):
            restore(url, args.as_of)
            r = run_child(variant, url, plan_path, src=args.sweep_src if variant == "sweep" else None,
                          statements=True)
            out["statements"][variant] = r["statements"]
            print(f"  statements of one more {variant} run ({r['seconds']:.2f}s; time in execute, rows decoded later):")
            for label, (count, secs) in sorted(r["statements"].items(), key=lambda kv: -kv[1][1]):
                print(f"    {secs:8.3f}s {count:6d}x  {label}")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        restore(url, args.as_of)
        prof = str(Path(args.profile).resolve() / f"sweep-{n}.prof")
        run_child("sweep", url, plan_path, src=args.sweep_src, profile=prof)
        out["profile"] = top_profile(prof)
        for ln in out["profile"]:
            print("  " + ln)
        restore(url, args.as_of)
        prof_raw = str(Path(args.profile).resolve() / f"raw-{n}.prof")
        run_child("raw", url, plan_path, profile=prof_raw)
        print(f"  (raw child profile in {prof_raw})")
    restore(url, args.as_of)
    return out


def summary_row(r: dict) -> dict:
    best = {v: min(r["runs"][v], key=lambda x: x["seconds"]) for v in ("sweep", "raw")}
    return {
        "cases": r["cases"], "sweep_s": best["sweep"]["seconds"], "raw_s": best["raw"]["seconds"],
        "ratio": best["sweep"]["seconds"] / best["raw"]["seconds"],
        "sweep_rss": max(x["peak_rss_mb"] for x in r["runs"]["sweep"]),
        "raw_rss": max(x["peak_rss_mb"] for x in r["runs"]["raw"]),
        "sweep_rss0": best["sweep"]["rss_after_import_mb"], "raw_rss0": best["raw"]["rss_after_import_mb"],
        "sweep_import": best["sweep"]["import_s"], "raw_import": best["raw"]["import_s"],
        "scanned": best["sweep"]["scanned"], "queued": best["sweep"]["queued"],
        "all_sweep": [round(x["seconds"], 2) for x in r["runs"]["sweep"]],
        "all_raw": [round(x["seconds"], 2) for x in r["runs"]["raw"]],
    }


HEADER = ("| cases | sweep s | raw s | ratio | sweep peak RSS MB | raw peak RSS MB | rows scanned | items queued |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|")


def table(rows: list[dict]) -> list[str]:
    out = list(HEADER)
    for s in rows:
        out.append(f"| {s['cases']:,} | {s['sweep_s']:.2f} | {s['raw_s']:.2f} | {s['ratio']:.2f} | "
                   f"{s['sweep_rss']:.0f} | {s['raw_rss']:.0f} | {s['scanned']:,} | {s['queued']:,} |")
    return out


def memory_line(rows: list[dict]) -> str:
    if len(rows) < 2:
        return ""
    a, b = rows[0], rows[-1]
    ds = (b["sweep_rss"] - b["sweep_rss0"]) - (a["sweep_rss"] - a["sweep_rss0"])
    dr = (b["raw_rss"] - b["raw_rss0"]) - (a["raw_rss"] - a["raw_rss0"])
    return (f"memory {a['cases']:,} -> {b['cases']:,} cases: sweep peak RSS {a['sweep_rss']:.0f} -> {b['sweep_rss']:.0f} MB "
            f"(above its post-import RSS: {a['sweep_rss'] - a['sweep_rss0']:.0f} -> "
            f"{b['sweep_rss'] - b['sweep_rss0']:.0f} MB, {ds:+.0f} MB), raw {a['raw_rss']:.0f} -> {b['raw_rss']:.0f} MB "
            f"({a['raw_rss'] - a['raw_rss0']:.0f} -> {b['raw_rss'] - b['raw_rss0']:.0f} MB, {dr:+.0f} MB)")


def record(args, info: dict, results: list[dict], rows: list[dict], command: str) -> None:
    lines = ["", f"## Deadline sweep (bench/sweep.py){' -- ' + args.label if args.label else ''}", "",
             f"`{command}` -- finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {info['cpu']}, {info['nproc']} CPUs, {info['memory']} RAM, load average {info['loadavg']} at "
             f"start and {loadavg()} at the end (shared machine); Python {info['python']}, "
             f"SQLAlchemy {info['sqlalchemy']}, psycopg {info['psycopg']}; PostgreSQL {info['postgresql']}.", "",
             f"Scenario: as_of {args.as_of}, batch size {args.batch_size}, one open patto deadline per case due in "
             f"as_of{EARLIEST:+d}..+{LATEST} days, half of the overdue already escalated, earlier reminder stages "
             f"logged, {args.outbox_history} sent outbox row(s) per case, {args.workers_per_area} social worker(s) per "
             f"sub-ambito. Each variant in its own subprocess on the "
             f"same restored state; best of {args.rounds} round(s); time excludes imports; peak RSS = ru_maxrss "
             f"of the child. Goal: sweep <= {GOAL}x raw.", ""]
    lines += table(rows)
    lines.append("")
    for s, r in zip(rows, results):
        d = r["data"]
        lines.append(f"- {s['cases']:,} cases: runs sweep {s['all_sweep']} s, raw {s['all_raw']} s; imports "
                     f"sweep {s['sweep_import']:.2f} s / raw {s['raw_import']:.2f} s; RSS after imports sweep "
                     f"{s['sweep_rss0']:.0f} MB / raw {s['raw_rss0']:.0f} MB; {d['in_window']:,} in window, "
                     f"{d['overdue']:,} overdue ({d['already_escalated']:,} escalated before), "
                     f"{d['outbox_rows']:,} outbox rows, database {d['db_size']}; both queued "
                     f"{r['check']['log_rows']:,} identical reminder_log rows {r['check']['by_stage']} in "
                     f"{r['check']['digests']} identical digests. Goal "
                     f"{'met' if s['ratio'] <= GOAL else 'NOT met'} ({s['ratio']:.2f}x).")
        lines.append(f"- {s['cases']:,} cases, medians: sweep {median(s['all_sweep']):.2f} s "
                     f"({min(s['all_sweep']):.2f}-{max(s['all_sweep']):.2f}), raw {median(s['all_raw']):.2f} s "
                     f"({min(s['all_raw']):.2f}-{max(s['all_raw']):.2f}), ratio of the medians "
                     f"{median(s['all_sweep']) / median(s['all_raw']):.2f}.")
    ml = memory_line(rows)
    if ml:
        lines.append(f"- {ml}.")
    for r in results:
        for variant, stmts in r.get("statements", {}).items():
            top = sorted(stmts.items(), key=lambda kv: -kv[1][1])[:5]
            lines.append(f"- {r['cases']:,} cases, {variant}, time inside execute by statement (one more run): "
                         + "; ".join(f"{label} {secs:.2f} s ({count}x)" for label, (count, secs) in top) + ".")
    if args.sweep_src:
        lines.append(f"- sweep child run against the source tree {args.sweep_src} (prototype), not this repository.")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"\nappended to {RESULTS}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=2, help="runs per variant, alternating order (default 2)")
    ap.add_argument("--batch-size", type=int, default=5000, help="run_deadline_sweep batch_size (default 5000)")
    ap.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    ap.add_argument("--outbox-history", type=int, default=1, help="sent outbox rows per case (default 1)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL,
                    help="database to DROP and recreate (name must contain 'bench'; default %(default)s)")
    ap.add_argument("--profile", metavar="DIR", help="also profile one sweep (and raw) run with cProfile")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the batch queries")
    ap.add_argument("--statements", action="store_true", help="one more run per variant timing each statement")
    ap.add_argument("--workers-per-area", type=int, default=1,
                    help="social workers per sub-ambito owning the cases (default 1)")
    ap.add_argument("--sweep-src", metavar="DIR", help="run the sweep child on another source tree (prototype)")
    ap.add_argument("--label", default="", help="a note for the RESULTS.md heading")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the last database (default: dropped)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the kept database if it was loaded with the same parameters (one size only)")
    args = ap.parse_args(argv)
    global LAUNCH
    LAUNCH = Launcher()  # first, while this process is small (see Launcher)
    if args.rounds < 1 or args.batch_size < 1 or any(n < 1 for n in args.cases):
        ap.error("--cases, --rounds and --batch-size must be positive")

    from store.db import normalise_url

    args.pg_url = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert normalise_url(args.pg_url).startswith("postgresql+psycopg://"), "PostgreSQL only"
    command = "python -m bench.sweep " + " ".join(argv)
    if args.reuse and len(args.cases) > 1:
        ap.error("--reuse works with one --cases size")
    if not args.reuse:
        recreate_database(args.pg_url)
    info = machine(args.pg_url)
    print(f"legami deadline sweep benchmark  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  command: {command}")
    print(f"  machine: {info['cpu']}, {info['nproc']} CPUs, {info['memory']}, load average {info['loadavg']}; "
          f"python {info['python']}, "
          f"sqlalchemy {info['sqlalchemy']}, psycopg {info['psycopg']}; postgresql {info['postgresql']}")
    results = []
    with tempfile.TemporaryDirectory(prefix="legami-sweep-") as tmp:
        for n in args.cases:
            results.append(bench_size(n, args, Path(tmp) / f"plan-{n}.json"))
    rows = [summary_row(r) for r in results]
    print("\n" + "\n".join(table(rows)))
    for s in rows:
        print(f"  {s['cases']:,}: medians sweep {median(s['all_sweep']):.2f}s raw {median(s['all_raw']):.2f}s, ratio "
              f"{median(s['all_sweep']) / median(s['all_raw']):.2f}")
        print(f"  {s['cases']:,}: ratio {s['ratio']:.2f} (goal <= {GOAL}: {'met' if s['ratio'] <= GOAL else 'NOT met'}); "
              f"imports sweep {s['sweep_import']:.2f}s raw {s['raw_import']:.2f}s")
    ml = memory_line(rows)
    if ml:
        print("  " + ml)
    if not args.no_record:
        record(args, info, results, rows, command)
    LAUNCH.close()
    if not args.keep:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        import psycopg

        with psycopg.connect(make_conninfo(args.pg_url, dbname="postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{conninfo_to_dict(args.pg_url)["dbname"]}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
