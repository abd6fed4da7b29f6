"""The main pages per role, p50/p95, against the very same SQL issued raw, on PostgreSQL (issue 12 item 7).

    python -m bench.pages [--cases 100000] [--scale 1.0] [--rounds 10] [--depth 100] [--url postgresql://...]

The district: a throw-away database (its name must contain "bench"; default legami_bench_pages) holding the demo
at `--scale` (1.0: the district's real size, ~800 cases), cloned by bench/district.py up to `--cases` when that
is larger (0: the demo alone). Kept between runs (a marker table records what was loaded): a second run with
the same sizes starts at once. After loading, the first user of each role gets the demo password
(`demo_logins`, before the copies) and the day's tally snapshot is materialised, as the daily flow does,
so /cruscotto reads it.

The pages are driven in process with FastAPI's TestClient (the ASGI app, its thread pool, the real engine and
pool; no network); each role logs in once through /accesso. Pages: Oggi; Casi page 1 and a deep page (reached
by following «Pagina successiva», the keyset `dopo` link, `--depth` times); a case page (the worker's case with
the most steps); /cruscotto; the provider portal /ente; an FNA call's ranking (its biggest call).

The raw baseline: the statements each page sent to the database are recorded once at the DBAPI level (a psycopg
cursor that notes every execute, whichever layer issued it: Core, the hot path's raw connection), then each
round replays them, same text and parameters, on one psycopg connection with fetchall and one commit, as
cheap as a page's queries can be. Page and raw alternate round by round, so both see the same load. "overhead"
is page p50 / raw p50: what the app adds (routing, session, Python work on the rows, templates). Goals (issue
12): page p95 <= 300 ms at 100,000 cases, overhead <= 2x. Not part of CI.
"""
from __future__ import annotations

import argparse
import html
import os
import platform
import re
import statistics
import time
from datetime import date

from bench.common import cpu_and_memory, loaded_dataset, loadavg, save_meta

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_pages"
META = "bench_pages_meta"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CASE_RE = re.compile(r'href="(/casi/\d+)"')
NEXT_RE = re.compile(r'href="(/casi\?[^"]*dopo=[^"]*)"')
GOAL_P95_MS, GOAL_RATIO = 300.0, 2.0


# ------------------------------------------------------------------------------------ the district

def prepare(url: str, cases: int, scale: float) -> dict:
    """The district (reused when already loaded with the same sizes) and what the pages need from it."""
    key = {"cases": cases, "scale": scale, "version": 2}
    found = loaded_dataset(url, key, META)
    if found:
        from store.db import migrate

        migrate(url)  # a district kept from an earlier run, brought to the code's schema
        return {**found, "reused": True, "snapshot_seconds": day_snapshot(url),
                "night_seconds": keep_night_answers(url)}
    from bench import district
    from services.tallies import materialise
    from store.db import make_engine

    started = time.perf_counter()
    logins = district.demo(url, scale)
    engine = make_engine(url)
    demo_seconds = time.perf_counter() - started
    cloned = district.clone(url, cases) if cases else {}
    t = time.perf_counter()
    materialise(engine, as_of=local_today())
    snapshot_seconds = time.perf_counter() - t
    engine.dispose()
    night = keep_night_answers(url)
    data = {"logins": logins, **facts(url, logins), "demo_seconds": round(demo_seconds, 1), "night_seconds": night,
            "clone_seconds": round(cloned.get("seconds", 0.0), 1), "snapshot_seconds": round(snapshot_seconds, 1)}
    save_meta(url, key, data, META)
    return {**data, "reused": False}


def local_today() -> date:
    """The day the pages read as today (Europe/Rome): from 23:00 UTC in winter it is already tomorrow there."""
    from datetime import datetime

    from domain.italian import ROME

    return datetime.now(ROME).date()


def day_snapshot(url: str) -> float | None:
    """The day's tally snapshot of a district kept from an earlier day (the daily flow makes it each night; the
    dashboard otherwise computes the tallies live, minutes at 100,000 cases): seconds taken, None if there."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("SELECT 1 FROM tally_snapshot WHERE as_of = %s", (local_today(),)).fetchone():
            return None
    from services.tallies import materialise
    from store.db import make_engine

    started, engine = time.perf_counter(), make_engine(url)
    try:
        materialise(engine, as_of=local_today())
    finally:
        engine.dispose()
    return round(time.perf_counter() - started, 1)


def keep_night_answers(url: str) -> float | None:
    """What the nightly obligations check keeps for the day's Oggi (services/facts.KEEPERS: the SIUSS count),
    for each Ambito, as the night would have today: once a day (a later run the same day reuses it, the
    readers adding what changed since). Seconds taken, None when today's was there."""
    import psycopg

    from config.obligation_files import load_obligations
    from services.obligations import keep_answers
    from store.db import make_engine

    today = local_today()
    with psycopg.connect(url) as conn:
        ambiti = [r[0] for r in conn.execute("SELECT DISTINCT ambito_code FROM case_file ORDER BY 1")]
        kept = conn.execute("SELECT count(DISTINCT ambito_code) FROM siuss_pending WHERE computed_at::date = %s",
                            (today,)).fetchone()[0]
    if kept >= len(ambiti):
        return None
    started, engine = time.perf_counter(), make_engine(url)
    try:
        for ambito in ambiti:
            keep_answers(engine, load_obligations(), today, ambito)
    finally:
        engine.dispose()
    return round(time.perf_counter() - started, 1)


def facts(url: str, logins: dict) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        one = lambda sql, *p: (conn.execute(sql, p).fetchone() or [None])[0]  # noqa: E731
        worker = logins.get("social_worker")
        return {
            "total_cases": one("SELECT count(*) FROM case_file"),
            "steps": one("SELECT count(*) FROM case_transition"),
            "worker_cases": one("SELECT count(*) FROM case_file WHERE owner = %s", worker),
            "case_id": one("SELECT c.id FROM case_file c JOIN case_transition t ON t.case_id = c.id "
                           "WHERE c.owner = %s GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1", worker),
            "call_id": one("SELECT related_case_id FROM case_file WHERE case_type = 'fna_domanda' AND "
                           "related_case_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"),
            "call_applications": one("SELECT count(*) FROM case_file WHERE case_type = 'fna_domanda' GROUP BY "
                                     "related_case_id ORDER BY 1 DESC LIMIT 1"),
        }


# ------------------------------------------------------------------------------------ recording SQL

class Recorder:
    """Every (query, params) executed on the engine's psycopg connections while `on`."""

    def __init__(self):
        self.on = False
        self.statements: list[tuple[str, object]] = []

    def install(self, engine) -> None:
        import psycopg
        from sqlalchemy import event

        recorder = self

        class RecordingCursor(psycopg.Cursor):
            def execute(self, query, params=None, **kw):
                if recorder.on:
                    recorder.statements.append((query, params))
                return super().execute(query, params, **kw)

            def executemany(self, query, params_seq, **kw):
                params_seq = list(params_seq)
                if recorder.on:
                    recorder.statements.extend((query, p) for p in params_seq)
                return super().executemany(query, params_seq, **kw)

        event.listen(engine, "connect", lambda dbapi_conn, _rec: setattr(dbapi_conn, "cursor_factory",
                                                                         RecordingCursor))
        engine.dispose()  # connections opened before now get no recorder

    def capture(self, fn):
        self.statements, self.on = [], True
        try:
            result = fn()
        finally:
            self.on = False
        return result, list(self.statements)


def slowest(conn, statements: list[tuple[str, object]], n: int = 3) -> list[tuple[float, str, object]]:
    """The `n` slowest statements of a page, each timed once alone (ms, query, params)."""
    timed = []
    with conn.cursor() as cur:
        for query, params in statements:
            start = time.perf_counter()
            cur.execute(query, params)
            if cur.description is not None:
                cur.fetchall()
            timed.append(((time.perf_counter() - start) * 1000, query, params))
    conn.commit()
    return sorted(timed, key=lambda t: -t[0])[:n]


def replay(conn, statements: list[tuple[str, object]]) -> float:
    """Seconds to issue `statements` as recorded, fetching every row, in one transaction."""
    start = time.perf_counter()
    with conn.cursor() as cur:
        for query, params in statements:
            cur.execute(query, params)
            if cur.description is not None:
                cur.fetchall()
    conn.commit()
    return time.perf_counter() - start


# ------------------------------------------------------------------------------------ the pages

def login(client, username: str, password: str) -> None:
    page = client.get("/accesso")
    token = CSRF_RE.search(page.text).group(1)
    done = client.post("/accesso", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
    if done.status_code != 303:
        raise SystemExit(f"login of {username} failed: {done.status_code}")


def deep_link(client, depth: int) -> tuple[str | None, int]:
    """The URL of the page `depth` «Pagina successiva» links after page 1 (or the last one), and its number."""
    url, reached = "/casi", 1
    for _ in range(depth):
        found = NEXT_RE.findall(client.get(url).text)
        if not found:
            break
        url, reached = html.unescape(found[-1]), reached + 1
    return (url if reached > 1 else None), reached


def page_plan(data: dict, depth: int, clients: dict, only: str | None = None) -> list[tuple[str, str, str]]:
    """(role, page label, url) for every page the bench times (`only`: those whose role, label or url contain it)."""
    plan = []
    for role in ("social_worker", "subarea_coordinator", "planning_office"):
        if role not in clients:
            continue
        plan.append((role, "Oggi", "/oggi"))
        plan.append((role, "Casi, pagina 1", "/casi"))
        if not only or only.lower() in f"{role} casi, pagina n /casi?dopo":
            url, reached = deep_link(clients[role], depth)
            if url:
                plan.append((role, f"Casi, pagina {reached}", url))
    if "social_worker" in clients:
        if data.get("case_id"):
            plan.append(("social_worker", "un caso (il più lungo dell'operatore)", f"/casi/{data['case_id']}"))
        else:  # the worker owns none: the first case of her list
            first = CASE_RE.search(clients["social_worker"].get("/casi").text)
            if first:
                plan.append(("social_worker", "un caso (il primo dell'elenco)", first.group(1)))
    for role in ("subarea_coordinator", "planning_office", "evaluator"):
        if role in clients:
            plan.append((role, "Cruscotto", "/cruscotto"))
    if "provider" in clients:
        plan.append(("provider", "Portale dell'ente", "/ente"))
        plan.append(("provider", "Oggi", "/oggi"))
    if data.get("call_id") and "planning_office" in clients:
        plan.append(("planning_office", "Graduatoria FNA", f"/fna/bandi/{data['call_id']}/graduatoria"))
    return [p for p in plan if not only or only.lower() in " ".join(p).lower()]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(url: str, data: dict, rounds: int, depth: int, slow: float = 30.0, only: str | None = None) -> list[dict]:
    """Each page's timings, its raw replay's, and its slowest statements."""
    import psycopg
    from fastapi.testclient import TestClient

    from config.settings import Settings
    from services.demo_access import DEMO_PASSWORD
    from store.db import make_engine
    from web.app import create_app

    engine = make_engine(url)
    recorder = Recorder()
    recorder.install(engine)
    app = create_app(settings=Settings(database_url=url), engine=engine)
    clients = {}
    for role, username in data["logins"].items():
        if role in ("social_worker", "subarea_coordinator", "planning_office", "provider", "evaluator"):
            clients[role] = TestClient(app, base_url="http://127.0.0.1")
            login(clients[role], username, DEMO_PASSWORD)
    results = []
    raw = psycopg.connect(url)
    try:
        for role, label, path in page_plan(data, depth, clients, only):
            client = clients[role]
            start = time.perf_counter()
            response, statements = recorder.capture(lambda: client.get(path))  # also warms caches
            first = time.perf_counter() - start
            row = {"role": role, "page": label, "path": path, "status": response.status_code,
                   "kb": len(response.content) / 1024, "queries": len(statements), "page_s": [], "raw_s": []}
            results.append(row)
            if response.status_code != 200:
                continue
            if first > slow:  # one cold figure only: rounds of it would not end
                row["page_s"].append(first)
                row["raw_s"].append(replay(raw, statements))
                row["slowest"] = slowest(raw, statements)
                continue
            replay(raw, statements)  # warm the raw side the same way
            for _ in range(rounds):
                start = time.perf_counter()
                r = client.get(path)
                row["page_s"].append(time.perf_counter() - start)
                if r.status_code != 200:
                    raise SystemExit(f"{path} as {role}: {r.status_code}")
                row["raw_s"].append(replay(raw, statements))
            row["slowest"] = slowest(raw, statements)
    finally:
        raw.close()
        for c in clients.values():
            c.close()
        engine.dispose()
    return results


def report(results: list[dict], data: dict, args: argparse.Namespace, loads: tuple[str, str], seconds: float) -> str:
    cpu, mem = cpu_and_memory()
    lines = [f"`python -m bench.pages --cases {args.cases} --scale {args.scale} --rounds {args.rounds} "
             f"--depth {args.depth}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             "",
             f"Machine: {cpu}, {os.cpu_count()} CPUs, {mem}; load average {loads[0]} before, {loads[1]} after "
             f"(shared machine); Python {platform.python_version()}; PostgreSQL on 127.0.0.1; in-process TestClient. "
             f"District: {data['total_cases']:,} cases, {data['steps']:,} steps; the worker owns "
             f"{data['worker_cases']} cases; the biggest FNA call has {data.get('call_applications') or 0} "
             f"applications. " + ("Reused from an earlier run. " if data.get("reused") else
                                  f"Demo {data['demo_seconds']} s, copies {data['clone_seconds']} s, snapshot "
                                  f"{data['snapshot_seconds']} s. ")
             + (f"The day's tally snapshot {data['snapshot_seconds']} s. "
                if data.get("reused") and data.get("snapshot_seconds") else "")
             + (f"The night's kept answers (SIUSS) {data['night_seconds']} s. " if data.get("night_seconds") else "")
             + f"Total {seconds:.0f} s.",
             "",
             "| role | page | queries | KB | p50 ms | p95 ms | raw p50 ms | raw p95 ms | overhead | goal |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if r["status"] != 200:
            lines.append(f"| {r['role']} | {r['page']} | | | HTTP {r['status']} | | | | | |")
            continue
        p50, p95 = statistics.median(r["page_s"]) * 1000, pct(r["page_s"], 0.95) * 1000
        raw50, raw95 = statistics.median(r["raw_s"]) * 1000, pct(r["raw_s"], 0.95) * 1000
        ratio = p50 / raw50 if raw50 else float("inf")
        misses = [m for m, bad in (("p95", p95 > GOAL_P95_MS), ("overhead", ratio > GOAL_RATIO)) if bad]
        once = " (once, cold)" if len(r["page_s"]) == 1 and args.rounds > 1 else ""
        lines.append(f"| {r['role']} | {r['page']}{once} | {r['queries']} | {r['kb']:.0f} | {p50:.0f} | {p95:.0f} | "
                     f"{raw50:.1f} | {raw95:.1f} | {ratio:.1f}x | {'met' if not misses else 'not met: ' + ', '.join(misses)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the district (0: the demo alone)")
    parser.add_argument("--scale", type=float, default=1.0, help="the demo's scale before the copies")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--depth", type=int, default=100, help="«Pagina successiva» links followed to the deep page")
    parser.add_argument("--slow", type=float, default=30.0,
                        help="a page whose first request takes longer (s) is timed once, cold")
    parser.add_argument("--pages", metavar="TEXT", help="only the pages whose role, label or url contain TEXT")
    parser.add_argument("--show-sql", metavar="TEXT", help="print the slowest statements of the pages whose role, "
                        "label or url contain TEXT, with the slowest one's EXPLAIN ANALYZE")
    args = parser.parse_args()
    if not (0 <= args.cases <= 2_000_000 and 1 <= args.rounds <= 200 and 0 < args.scale <= 5 and args.depth >= 1):
        raise SystemExit("cases 0-2,000,000, rounds 1-200, scale up to 5, depth >= 1")
    started, before = time.perf_counter(), loadavg()
    data = prepare(args.url, args.cases, args.scale)
    results = run(args.url, data, args.rounds, args.depth, args.slow, args.pages)
    print(report(results, data, args, (before, loadavg()), time.perf_counter() - started))
    if args.show_sql:
        show_sql(args.url, results, args.show_sql.lower())


def show_sql(url: str, results: list[dict], text: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for r in results:
            if text not in f"{r['role']} {r['page']} {r['path']}".lower() or not r.get("slowest"):
                continue
            print(f"\n{r['role']} {r['page']} ({r['path']}): slowest statements")
            for ms, query, params in r["slowest"]:
                print(f"-- {ms:.1f} ms, params {params!r}\n{query}")
            _, query, params = r["slowest"][0]
            if query.lstrip().upper().startswith("SELECT"):
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params).fetchall()
                print("\n".join(line[0] for line in plan))
                conn.rollback()


if __name__ == "__main__":
    main()
