"""Server CPU per API request, in process: GET /api/v1/casi/{id} and POST .../transizioni/assegna.

    python -m bench.api_cpu [--cases 200] [--url postgresql://...legami_bench_api_cpu] [--profile get|post]

The same data as bench/api.py (a subarea coordinator over patto cases freshly opened), on a throw-away
PostgreSQL database (its name must contain "bench"). One Starlette TestClient drives the app in this process
with HTTP Basic (the credential verified once, then cached, as a running integration has it); each kind is
timed by this process's CPU (`time.process_time`, every thread: the TestClient's own share of a few ms
included, the same before and after a change, so compare within this bench), which a busy machine disturbs
much less than wall time. To time other code, run it from that checkout (`cd other && python -m bench.api_cpu`).
`--profile get|post` prints yappi's functions by total CPU time (every thread) for one kind instead
(`pip install yappi` first). Not part of CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.api import PASSWORD, assign_body
from bench.common import loadavg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_api_cpu"


def prepare(url: str, cases: int) -> list[int]:
    from bench.api import prepare as prepare_api

    data = prepare_api(url, 1, cases, 1)
    return data["basic0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="timed chunks per kind (median reported)")
    parser.add_argument("--profile", choices=["get", "post"])
    args = parser.parse_args()
    os.environ["LEGAMI_DATABASE_URL"] = args.url
    case_ids = prepare(args.url, args.cases)

    from fastapi.testclient import TestClient

    from web.app import create_app

    client = TestClient(create_app(), base_url="http://testserver")
    client.auth = ("coord.bench00", PASSWORD)
    assert client.get("/api/v1/tipi").status_code == 200  # argon2 once, then the cached credential

    def get(case_id: int) -> None:
        r = client.get(f"/api/v1/casi/{case_id}")
        assert r.status_code == 200, r.text

    def post(case_id: int) -> None:
        r = client.post(f"/api/v1/casi/{case_id}/transizioni/assegna", json=assign_body())
        assert r.status_code == 200, r.text

    warm = case_ids[:10]
    for c in warm:
        get(c)
    todo = case_ids[10:]
    if args.profile:
        fn = get if args.profile == "get" else post
        import yappi  # every thread (the app's endpoints run in the thread pool), CPU clock

        yappi.set_clock_type("cpu")
        yappi.start()
        for c in todo:
            fn(c)
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.sort("ttot")
        stats.print_all(columns={0: ("name", 110), 1: ("ncall", 8), 2: ("tsub", 8), 3: ("ttot", 8)})
        return
    chunk = len(todo) // args.repeat
    results: dict[str, list[float]] = {"GET": [], "POST": []}
    load_before = loadavg()
    for i in range(args.repeat):
        part = todo[i * chunk:(i + 1) * chunk]
        for kind, fn in (("GET", get), ("POST", post)):
            cpu, wall = time.process_time(), time.perf_counter()
            for c in part:
                fn(c)
            results[kind].append((time.process_time() - cpu) / len(part) * 1000)
            results.setdefault(f"{kind} wall", []).append((time.perf_counter() - wall) / len(part) * 1000)
    for kind, values in results.items():
        print(f"{kind}: median {statistics.median(values):.2f} ms/req ({', '.join(f'{v:.2f}' for v in values)})")
    print(f"load {load_before} -> {loadavg()}")


if __name__ == "__main__":
    main()
