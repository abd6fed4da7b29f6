"""The deadline scan: the daily sweep over every open deadline of the instance, timed in a fresh process.

    python -m bench.region scan [--url ...] [--rounds 2] [--per-transaction N]

Before each round the day's output (reminder_log, outbox) is removed, so every round does the first night's
work (every overdue deadline escalates, to its owner and the sub-ambito's coordinator). Reported: seconds,
deadlines examined, rows queued, peak RSS, per open case cost (µs), and the extrapolation to 3M open cases.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import loadavg

REPO = Path(__file__).resolve().parents[2]


def child(url: str, as_of: str, per_transaction: int = 0) -> dict:
    from datetime import date

    from services.sweep import run_deadline_sweep
    from store.db import make_engine

    engine = make_engine(url)
    t = time.perf_counter()
    result = run_deadline_sweep(engine, as_of=date.fromisoformat(as_of), per_transaction=per_transaction)
    seconds = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": round(seconds, 2), "scanned": result.scanned, "queued": result.queued,
            "reminders": result.reminders, "escalations": result.escalations,
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 2), "peak_rss_mb": round(ru.ru_maxrss / 1024, 1)}


def scan(url: str, as_of: str, rounds: int, per_transaction: int = 0) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        open_cases = conn.execute("SELECT count(DISTINCT case_id) FROM deadline WHERE status = 'open'").fetchone()[0]
    runs = []
    for _ in range(rounds):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM reminder_log")
            conn.execute("DELETE FROM outbox")
            conn.execute("VACUUM ANALYZE reminder_log")
            conn.execute("VACUUM ANALYZE outbox")
        before = loadavg()
        p = subprocess.run([sys.executable, "-m", "bench.region", "scan-child", "--url", url, "--as-of", as_of,
                            "--per-transaction", str(per_transaction)],
                           cwd=REPO, capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(p.stderr[-3000:])
        runs.append({**json.loads(p.stdout.strip().splitlines()[-1]), "load": f"{before} -> {loadavg()}"})
    best = min(r["seconds"] for r in runs)
    return {"open_cases": open_cases, "runs": runs, "best_s": best,
            "us_per_open_case": round(best / open_cases * 1e6, 1),
            "extrapolated_3M_s": round(best / open_cases * 3_000_000, 1)}
