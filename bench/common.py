"""What the sweep and tallies benchmarks share: memory figures, the launcher their children start from,
the throw-away PostgreSQL database and its "already loaded" marker, and the machine's facts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def mb(kib: int) -> float:
    return kib / 1024.0  # ru_maxrss is in KiB on Linux


def vm_hwm_mb() -> float:
    try:
        for ln in Path("/proc/self/status").read_text().splitlines():
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def loadavg() -> str:
    return "%.2f %.2f %.2f" % os.getloadavg()


def slug(name: str) -> str:
    return name.lower().replace(" ", "")


def cpu_and_memory() -> tuple[str, str]:
    """The CPU model and total memory, from /proc ("?" where unreadable)."""
    cpu = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = "?"
    try:
        kib = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                       if ln.startswith("MemTotal")))
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return cpu, mem


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url).get("dbname")
    if not name or "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                     "pg_backend_pid()", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def loaded_dataset(url: str, key: dict, table: str) -> dict | None:
    """The dataset's description saved by `save_meta` in `table` if it was loaded with `key`, else None."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(f"SELECT key, data FROM {table}").fetchone()
    except psycopg.Error:
        return None
    return row[1] if row and row[0] == key else None


def save_meta(url: str, key: dict, data: dict, table: str) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE {table} (key jsonb, data jsonb)")
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (Jsonb(key), Jsonb(data)))


LAUNCHER = """
import json, subprocess, sys
for line in sys.stdin:
    job = json.loads(line)
    p = subprocess.run(job["cmd"], cwd=job["cwd"], capture_output=True, text=True)
    print(json.dumps({"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}), flush=True)
"""


class Launcher:
    """Starts the children from a small process forked before anything heavy is imported or loaded.

    Linux carries the parent's RSS at fork/exec into the child's ru_maxrss (signal->maxrss keeps the
    high-water mark of the mm replaced by exec), so a child forked from this parent after it loaded a
    million rows would report the parent's peak. Forked from this ~15 MB launcher, it reports its own.
    """

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, cmd: list[str], cwd: str) -> tuple[int, str, str]:
        self.proc.stdin.write(json.dumps({"cmd": cmd, "cwd": cwd}) + "\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        return out["rc"], out["stdout"], out["stderr"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def default_ambito(conn) -> None:
    """Rows COPYed into case_file without an ambito_code (NOT NULL since 0018) get the default Ambito's: the
    column's default is set to it (a psycopg connection, committed by the caller's block); so do the deadlines
    (deadline.ambito_code, their case's since 0023: every generated case is the default Ambito's)."""
    code = conn.execute("SELECT code FROM district WHERE is_default ORDER BY code LIMIT 1").fetchone()[0]
    conn.execute(f"ALTER TABLE case_file ALTER COLUMN ambito_code SET DEFAULT '{code}'")
    if conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND "
                    "table_name = 'deadline' AND column_name = 'ambito_code')").fetchone()[0]:
        conn.execute(f"ALTER TABLE deadline ALTER COLUMN ambito_code SET DEFAULT '{code}'")
