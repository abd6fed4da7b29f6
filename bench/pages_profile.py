"""Process CPU profile of the pages bench/pages.py times (the shared machine's load matters less than in wall time).

    python -m bench.pages_profile --url postgresql://...legami_bench_pages2 --pages "social_worker oggi" [--n 20]

Uses the district bench/pages.py loaded at that URL (run it first). For each matching page: process CPU ms per
request (time.process_time over `--n` requests, no profiler attached), then a profile of the same requests sorted
by cumulative time (`--top` lines) unless `--no-profile`: yappi on CPU time when installed (it follows the ASGI
portal's and the thread pool's threads, where cProfile sees only the calling thread), else cProfile. Not part of CI.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from bench.common import loaded_dataset, loadavg
from bench.pages import META, login, page_plan


def profile(fn, sort: str, top: int) -> str:
    out = io.StringIO()
    try:
        import yappi
    except ImportError:
        prof = cProfile.Profile()
        prof.runcall(fn)
        pstats.Stats(prof, stream=out).sort_stats(sort).print_stats(top)
        return out.getvalue()
    yappi.clear_stats()
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False, profile_threads=True)
    try:
        fn()
    finally:
        yappi.stop()
    stats = yappi.get_func_stats().sort("ttot" if sort == "cumulative" else "tsub")
    total = 0.0
    for i, f in enumerate(stats):
        if i >= top:
            break
        print(f"{f.ttot * 1000:9.1f} {f.tsub * 1000:9.1f} {f.ncall:7d}  {f.module.split('site-packages/')[-1]}:"
              f"{f.lineno} {f.name}", file=out)
    return "   ttot ms   tsub ms   calls\n" + out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--pages", metavar="TEXT", required=True)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    data = loaded_dataset(args.url, {"cases": args.cases, "scale": args.scale, "version": 2}, META)
    if not data:
        raise SystemExit("no district at that URL with those sizes: run bench.pages first")
    from fastapi.testclient import TestClient

    from config.settings import Settings
    from services.demo_access import DEMO_PASSWORD
    from store.db import make_engine
    from web.app import create_app

    engine = make_engine(args.url)
    app = create_app(settings=Settings(database_url=args.url), engine=engine)
    clients = {}
    for role, username in data["logins"].items():
        if role in ("social_worker", "subarea_coordinator", "planning_office", "provider", "evaluator"):
            clients[role] = TestClient(app, base_url="http://127.0.0.1")
            login(clients[role], username, DEMO_PASSWORD)
    print(f"load {loadavg()}")
    for role, label, path in page_plan(data, 3, clients, args.pages):
        client = clients[role]
        for _ in range(3):
            client.get(path)  # warm
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.n):
            client.get(path)
        cpu, wall = (time.process_time() - cpu) / args.n * 1000, (time.perf_counter() - wall) / args.n * 1000
        print(f"\n== {role} {label} {path}: {cpu:.1f} ms CPU, {wall:.1f} ms wall per request (load {loadavg()})")
        if args.no_profile:
            continue
        print(profile(lambda: [client.get(path) for _ in range(args.n)], args.sort, args.top))
    for c in clients.values():
        c.close()
    engine.dispose()


if __name__ == "__main__":
    main()
