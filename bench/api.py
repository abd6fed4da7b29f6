"""The REST API under 50 concurrent clients, with HTTP Basic and with session cookies, on PostgreSQL.

    python -m bench.api [--clients 50] [--rounds 4] [--sequential 20] [--url postgresql://...legami_bench_api]

A throw-away database (its name must contain "bench"; default legami_bench_api) is recreated and initialised;
one subarea coordinator per client (real argon2id parameters, the library's defaults) and, for each client and
mode, `rounds` patto cases freshly opened (state SEGNALAZIONE). Legami is started with uvicorn in a subprocess
on 127.0.0.1 (a free port; one process as `legami serve` runs it, or with `--workers N` as `legami serve
--workers N` does) and driven over loopback by httpx (async).

Each client does `rounds` times: GET /api/v1/casi/{id}, then POST /api/v1/casi/{id}/transizioni/assegna on one
of its own cases (`versione_attesa` 1). Kinds measured:

* sequential: the same GET and POST issued one by one by a single client (Basic, then session), the baseline;
* basic first request: the 50 clients' first calls (GET /api/v1/tipi), all at once: each pays the argon2
  verification, queued behind the password-check threads; timed apart, not part of the race;
* basic, 50 clients: each client its own credentials, already verified (the 60 s cache), all 50 starting at once;
* session, 50 clients: each client logs in through /accesso first (not timed), then cookie + X-CSRF-Token,
  all 50 starting at once;
* mixed, 50 clients: half of them Basic (verified just before, not timed), half sessions, all at once: both
  kinds under the very same load, the fairest comparison on a shared machine;
* a probe: an unauthenticated GET /accesso every 50 ms during the Basic first requests (what everyone else
  waits while the password checks run); stopped before the races, whose CPU figures it would otherwise swell.

Both races start with every client ready, so they run at the same concurrency: "in flight" is the mean number
of requests open during a race (sum of latencies / wall time). Until 2026-12-08 the Basic race began with each
client's cold argon2 check, so its clients entered one by one behind the password-check threads and the race
ran at a fraction of the session race's concurrency: Basic looked ~4x faster than sessions for that reason
alone. "server CPU ms/req" is the uvicorn process's user+system CPU over the phase divided by its requests
(from /proc), "client CPU" the same for this process (httpx, on the same cores).

Bounded: every request times out after 60 s, the whole run after `--deadline` seconds; the server is stopped at
the end, whatever happens. Not part of CI. `--app-dir DIR` serves another checkout's code (same database
schema assumed), to compare with the code before a change.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.common import cpu_and_memory, loadavg, recreate_database

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of the processes of group `pid` (the server and, with --workers, its worker
    processes; Linux /proc; 0 where unreadable)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pid:  # the process group: the server was started in a session of its own
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            continue
    return total

ROOT = str(Path(__file__).resolve().parent.parent)
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_api"
PASSWORD = "cavallo-batteria-graffetta-bench"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SERVER = """
import sys, uvicorn
from web.app import create_app
port, workers = int(sys.argv[1]), int(sys.argv[2])
if workers > 1:  # as `legami serve --workers N` runs it
    uvicorn.run("web.app:create_app", factory=True, workers=workers, host="127.0.0.1", port=port, log_level="warning")
else:
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")
"""


def prepare(url: str, clients: int, per_mode: int, sequential: int) -> dict[str, list[int]]:
    """Fresh database, one coordinator per client, and the cases each will assign (not timed)."""
    from services.auth import create_user
    from services.cases import CaseService
    from services.setup import init_database
    from store.db import make_engine
    from tests.integration.patto_steps import segnalazione

    recreate_database(url)
    engine = make_engine(url)
    init_database(url, engine)
    create_user(engine, "as.rossi", "Anna Rossi", "as.rossi@example.org", "social_worker", sub_ambito="Crema",
                password=PASSWORD)
    names = [f"coord.bench{i:02d}" for i in range(clients)]
    for name in names:
        create_user(engine, name, name, f"{name}@example.org", "subarea_coordinator", sub_ambito="Crema",
                    password=PASSWORD)
    service = CaseService(engine)
    rossi = service.actor("as.rossi")

    people = iter(range(1_000_000))

    def open_cases(n: int) -> list[int]:  # one person each: a birth date of their own
        return [service.open_case(case_type="patto", actor=rossi, comune_istat="019035", effective_at=date.today(),
                                  data=segnalazione(birth=date(1940, 1, 1) + timedelta(days=next(people))))
                for _ in range(n)]

    opened: dict[str, list[int]] = {}
    for mode in ("seq_basic", "seq_session"):
        opened[mode] = open_cases(sequential)
    for mode in ("basic", "session", "mixed"):
        for i in range(clients):
            opened[f"{mode}{i}"] = open_cases(per_mode)
    engine.dispose()
    return {"names": names, **opened}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, app_dir: str, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "LEGAMI_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(workers)], env=env, cwd=app_dir,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/accesso", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("the server did not start in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def assign_body() -> dict:
    today = date.today()
    return {"dati": {"assegnatario": "as.rossi", "primo_colloquio_il": today.strftime("%d/%m/%Y")},
            "efficace_il": today.isoformat(), "versione_attesa": 1}


async def session_client(base: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/accesso")
    token = CSRF_RE.search(page.text).group(1)
    done = await client.post("/accesso", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303 and "legami_sessione" in client.cookies, done.status_code
    csrf = CSRF_RE.search((await client.get("/profilo")).text).group(1)
    client.headers["X-CSRF-Token"] = csrf
    return client


def basic_client(base: str, username: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=60, auth=httpx.BasicAuth(username, PASSWORD))


async def timed(client: httpx.AsyncClient, method: str, path: str, **kw) -> float:
    start = time.perf_counter()
    r = await client.request(method, path, **kw)
    elapsed = time.perf_counter() - start
    if r.status_code != 200:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
    return elapsed


async def walk(client: httpx.AsyncClient, cases: list[int], out: dict[str, list[float]], prefix: str) -> None:
    for case_id in cases:
        out.setdefault(f"{prefix} GET", []).append(await timed(client, "GET", f"/api/v1/casi/{case_id}"))
        out.setdefault(f"{prefix} POST", []).append(
            await timed(client, "POST", f"/api/v1/casi/{case_id}/transizioni/assegna", json=assign_body()))


async def probe(base: str, stop: asyncio.Event, out: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while not stop.is_set():
            start = time.perf_counter()
            await client.get("/accesso")
            out.append(time.perf_counter() - start)
            await asyncio.sleep(0.05)


class Phase:
    """Wall time and the CPU of the server and of this process over one phase of the run."""

    def __init__(self, out: dict[str, list[float]], name: str, server_pid: int):
        self.out, self.name, self.pid = out, name, server_pid

    def __enter__(self) -> Phase:
        self.counts = {k: len(v) for k, v in self.out.items()}
        self.wall, self.server, self.client = time.perf_counter(), process_cpu(self.pid), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        added = {k: v[self.counts.get(k, 0):] for k, v in self.out.items() if not k.startswith("_")}
        requests = sum(len(v) for k, v in added.items() if not k.startswith("probe"))
        busy = sum(sum(v) for k, v in added.items() if not k.startswith("probe"))
        self.out[f"_phase {self.name}"] = [wall, requests, busy / wall if wall else 0.0,
                                           process_cpu(self.pid) - self.server, time.process_time() - self.client]


async def run(base: str, data: dict, clients: int, server_pid: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    names = data["names"]
    seq = basic_client(base, names[0])
    await seq.get("/api/v1/tipi")  # warm: the credential verified once, as a running integration has it
    with Phase(out, "sequential basic", server_pid):
        await walk(seq, data["seq_basic"], out, "sequential basic")
    await seq.aclose()
    seq = await session_client(base, names[0])
    with Phase(out, "sequential session", server_pid):
        await walk(seq, data["seq_session"], out, "sequential session")
    await seq.aclose()

    stop, probes = asyncio.Event(), []
    prober = asyncio.create_task(probe(base, stop, probes))
    basics = [basic_client(base, names[i]) for i in range(clients)]
    firsts = out.setdefault("basic first request (argon2, GET /tipi)", [])
    with Phase(out, "basic first requests", server_pid):
        firsts.extend(await asyncio.gather(*(timed(c, "GET", "/api/v1/tipi") for c in basics)))
        stop.set()
        await prober
    out["probe GET /accesso (during basic first requests)"] = probes
    with Phase(out, "basic race", server_pid):
        await asyncio.gather(*(walk(c, data[f"basic{i}"], out, "basic") for i, c in enumerate(basics)))
    for c in basics:
        await c.aclose()

    sessions = await asyncio.gather(*(session_client(base, names[i]) for i in range(clients)))
    with Phase(out, "session race", server_pid):
        await asyncio.gather(*(walk(c, data[f"session{i}"], out, "session") for i, c in enumerate(sessions)))

    half = clients // 2
    basics = [basic_client(base, names[i]) for i in range(half)]
    await asyncio.gather(*(c.get("/api/v1/tipi") for c in basics))  # verified again if the cache expired
    mixed = [*basics, *sessions[half:]]
    with Phase(out, "mixed race", server_pid):
        await asyncio.gather(*(walk(c, data[f"mixed{i}"], out, "mixed basic" if i < half else "mixed session")
                               for i, c in enumerate(mixed)))
    for c in [*basics, *sessions]:
        await c.aclose()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(out: dict[str, list[float]], args: argparse.Namespace, loads: tuple[str, str], seconds: float) -> str:
    cpu, mem = cpu_and_memory()
    lines = [f"Machine: {cpu}, {os.cpu_count()} CPUs, {mem}; load average {loads[0]} before, {loads[1]} after "
             f"(shared machine); Python {platform.python_version()}; PostgreSQL on 127.0.0.1; "
             f"{'one uvicorn process' if args.workers == 1 else f'uvicorn with {args.workers} worker processes'}. "
             f"Code served from {args.app_dir}. {args.clients} clients x {args.rounds} rounds; sequential baseline {args.sequential} of each; "
             f"total {seconds:.0f} s.", "",
             "| kind | n | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
    for kind, values in out.items():
        if kind.startswith("_") or not values:
            continue
        lines.append(f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
                     f"{pct(values, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} |")
    lines += ["", "| phase | requests | wall s | in flight | server CPU ms/req | client CPU ms/req |",
              "|---|---:|---:|---:|---:|---:|"]
    for kind, (wall, requests, in_flight, server, client) in ((k, v) for k, v in out.items()
                                                               if k.startswith("_phase ")):
        n = max(1, requests)
        lines.append(f"| {kind.removeprefix('_phase ')} | {requests:.0f} | {wall:.1f} | {in_flight:.1f} | "
                     f"{server / n * 1000:.1f} | {client / n * 1000:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=600)
    parser.add_argument("--app-dir", default=ROOT, help="serve the code of another checkout (e.g. to compare)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (legami serve --workers)")
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 1 <= args.rounds <= 50 and 1 <= args.sequential <= 500):
        raise SystemExit("clients 1-200, rounds 1-50, sequential 1-500")
    started = time.perf_counter()
    before = loadavg()
    data = prepare(args.url, args.clients, args.rounds, args.sequential)
    port = free_port()
    proc = start_server(args.url, port, args.app_dir, args.workers)
    try:
        out = asyncio.run(asyncio.wait_for(run(f"http://127.0.0.1:{port}", data, args.clients, proc.pid),
                                           args.deadline))
    finally:
        stop_server(proc)
    print(report(out, args, (before, loadavg()), time.perf_counter() - started))


if __name__ == "__main__":
    main()
