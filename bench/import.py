"""bench/import: `legami import` of N patti (a CSV as Italian Excel saves it: «;», BOM) against a raw bulk insert
of the very rows the import wrote, in the same run.

Each row is a referral and its assignment (two steps, two deadlines: one met, one open), so the import writes per
row a person, a case, two history rows, two deadlines, its case_import record and, when the open deadline is already
past on the import day (most rows), its reminder_log row (no reminder for the past). The import goes through
everything `legami import` does (the file streamed, every cell parsed, the forms' models, the guards, the engine's
deadlines, the hash chain, one transaction). The baseline copies the rows the import wrote, as they are, into a
fresh database with the DBAPI's executemany in one transaction: the lower bound of writing them at all (on
PostgreSQL its jsonb values go through the import's own serialiser, store.hot_sql's orjson). Memory:
the process's resident size sampled as the rows go (flat: the same at a fifth of the file and at its end) and its
peak (VmHWM).

    python -m bench.import --rows 50000 [--workers N] [--url postgresql://...]   (default: SQLite in a temp folder)

CPU is the load's process plus its worker processes (services/import_parallel.py), against the raw copy's.
"""
from __future__ import annotations

import argparse
import csv
import resource
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import loadavg, vm_hwm_mb
from domain.import_template import COMUNE, EXTERNAL_ID, STATE
from domain.italian import ROME
from domain.validation import make_codice_fiscale

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)
TABLES = ("person", "case_file", "case_transition", "deadline", "reminder_log", "case_import")  # foreign-key order
NAMES = ["Anna", "Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide"]
SURNAMES = ["Rossi", "Bianchi", "Ferrari", "Galli", "Conti", "Moretti", "Riva", "Fontana", "Marchi", "Lodi"]


def rss_mb(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def workers_rss_mb() -> list[float]:
    """Resident size of each live worker process (services/import_parallel.py)."""
    import multiprocessing

    return [rss_mb(p.pid) for p in multiprocessing.active_children()]


def write_csv(path: Path, rows: int, worker: str) -> None:
    from services.importing import template_columns

    headers = [c.header for c in template_columns("patto")[1]]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(headers)
        for i in range(rows):
            born = date(1940, 1, 1) + timedelta(days=i % 20000)
            name, surname = NAMES[i % len(NAMES)], SURNAMES[(i // len(NAMES)) % len(SURNAMES)]
            on = date(2026, 1, 2) + timedelta(days=i % 300)
            cells = {EXTERNAL_ID: f"PATTO-{i:06d}", STATE: "Presa in carico", COMUNE: "Crema",
                     "Segnalazione · data del passo": f"{on:%d/%m/%Y}",
                     "Segnalazione · Persona segnalata › Codice fiscale":
                         make_codice_fiscale(surname, name, born, "F" if i % 2 else "M", "D142"),
                     "Segnalazione · Persona segnalata › Cognome": surname,
                     "Segnalazione · Persona segnalata › Nome": name,
                     "Segnalazione · Persona segnalata › Data di nascita": f"{born:%d/%m/%Y}",
                     "Segnalazione · Fonte della segnalazione": "Caritas",
                     "Segnalazione · Area di bisogno": "Economico",
                     "Assegnazione e primo colloquio · data del passo": f"{on + timedelta(days=3):%d/%m/%Y}",
                     "Assegnazione e primo colloquio · Assistente sociale assegnatario": worker,
                     "Assegnazione e primo colloquio · Data del primo colloquio": f"{on + timedelta(days=3):%d/%m/%Y}"}
            out.writerow([cells.get(h, "") for h in headers])


def fresh(url: str | None, folder: Path, name: str) -> tuple[str, Any]:
    from services.setup import init_database
    from store.db import make_engine

    if url is None:
        target = f"sqlite:///{folder / (name + '.db')}"
    else:
        base = sa.engine.make_url(url)
        admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
        db = f"{base.database}_{name}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        target = base.set(database=db).render_as_string(hide_password=False)
    engine = make_engine(target)
    init_database(target, engine)
    return target, engine


def users(engine: Any) -> tuple[str, str]:
    from services.demo import _ServiceContext

    _ServiceContext(engine, year=2026, seed=7, scale=0, today=NOW.date()).create_users()
    with engine.connect() as conn:
        planner = conn.execute(sa.text("SELECT username FROM app_user WHERE role = 'planning_office'")).scalar()
        worker = conn.execute(sa.text("SELECT username FROM app_user WHERE role = 'social_worker' "
                                      "AND sub_ambito = 'Crema' ORDER BY username")).scalar()
    return planner, worker


BREAKDOWN = (  # (label, module, attribute): process CPU inside each, inclusive (indented: part of the line above)
    ("reading the file (csv, cells by header)", "services.import_files", "Table.rows"),
    ("parse_row (cells -> steps' data)", "services.importing", "parse_row"),
    ("engine decide, per step", "services.import_check", "decide"),
    ("  forms' models (pydantic, bounds, codice fiscale)", "domain.engine", "_validate_data"),
    ("  deadlines on the working-day calendar", "domain.engine", "_due"),
    ("rows built in memory (history, case, deadlines)", "services.import_batch", "BatchWriter._case_rows"),
    ("  audit row and hash chain", "services.import_batch", "_audit_row"),
    ("  health parts sealed", "services.import_batch", "seal"),
    ("executemany of people, cases, history, health, deadlines", "store.import_writes", "write_batch"),
    ("case_import rows", "store.import_writes", "record"),
    ("reminder_log rows (deadlines already past)", "store.import_writes", "settle"),
    ("the people a batch names, read (one query per batch)", "services.importing", "_Loader.prefetch"),
    ("a row's case queued for its batch (person, record)", "services.importing", "_Loader._write"),
    ("deadlines already missed, settled", "store.imports", "settle_missed_deadlines"),
    ("with workers: rows sorted out, ids given, sent (per batch)", "services.import_parallel", "_send"),
    ("with workers: answers taken, queued and written (per batch)", "services.import_parallel", "_take"),
    ("  a worker's answer queued (person, record)", "services.importing", "_Loader.write_built"),
)


def instrument() -> dict[str, float]:
    """Wrap the import's stages with process-CPU accumulators (about 1 us per call: the stages take 10-500 us)."""
    import importlib

    spent: dict[str, float] = {}
    for label, module, attribute in BREAKDOWN:
        owner = importlib.import_module(module)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        inner = getattr(owner, name)
        spent[label] = 0.0
        if attribute == "Table.rows":
            def wrapped(*args, _inner=inner, _label=label, **kwargs):
                it = _inner(*args, **kwargs)
                while True:
                    started = time.process_time()
                    try:
                        item = next(it)
                    except StopIteration:
                        spent[_label] += time.process_time() - started
                        return
                    spent[_label] += time.process_time() - started
                    yield item
        else:
            def wrapped(*args, _inner=inner, _label=label, **kwargs):
                started = time.process_time()
                try:
                    return _inner(*args, **kwargs)
                finally:
                    spent[_label] += time.process_time() - started
        setattr(owner, name, wrapped)
    return spent


def children_cpu() -> float:
    """Process CPU of the worker processes that have ended (a load's workers end with it)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_import(engine: Any, planner: str, path: Path, rows: int,
                 workers: int | None = None) -> tuple[float, float, float, list[tuple[int, float, list[float]]], Any]:
    from services.access import principal_for
    from services.import_files import Table
    from services.importing import run_import

    samples: list[tuple[int, float, list[float]]] = []

    def progress(done: int, _total: int | None) -> None:
        if done % max(rows // 10, 100) == 0:
            samples.append((done, rss_mb(), workers_rss_mb()))

    user = principal_for(engine, planner)
    cpu, children = time.process_time(), children_cpu()
    started = time.perf_counter()
    table = Table(path, "patto")
    result = run_import(engine, user, "patto", table.rows(), file_name=path.name, file_sha256="0" * 64,
                        dry_run=False, header_problems=table.problems, progress=progress, total=table.total,
                        clock=lambda: NOW, workers=workers)
    return (time.perf_counter() - started, time.process_time() - cpu, children_cpu() - children, samples,
            result)


def timed_raw_copy(source: Any, target: Any) -> tuple[float, int]:
    """The rows the import wrote, read first (untimed), then inserted raw in one transaction (timed)."""
    from psycopg.types.json import Jsonb

    from store.hot_sql import _dumps  # the import's own jsonb serialiser (orjson): same bytes' cost on both sides

    copied: list[tuple[str, list[str], list[tuple]]] = []
    with source.connect() as conn:
        for table in TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM {table}"))
            columns = list(rows.keys())
            data = [tuple(r) for r in rows]
            if target.dialect.name == "postgresql":  # jsonb values go to the driver as the import hands them
                data = [tuple(Jsonb(v, dumps=_dumps) if isinstance(v, (dict, list)) else v for v in r) for r in data]
            copied.append((table, columns, data))
    with target.connect() as conn:  # start clean: only the reference data and users stay
        for table in reversed(TABLES):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.commit()
    raw = target.raw_connection()
    cpu = time.process_time()
    started = time.perf_counter()
    cur = raw.cursor()
    count = 0
    param = "?" if target.dialect.name == "sqlite" else "%s"
    for table, columns, data in copied:
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([param] * len(columns))})"
        cur.executemany(statement, data)
        count += len(data)
    raw.commit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    raw.close()
    return elapsed, cpu, count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.import", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--url", default=None, help="PostgreSQL base URL (default: SQLite in a temporary folder)")
    ap.add_argument("--breakdown", action="store_true", help="process CPU per stage of the import, per row "
                    "(the load's own process: with workers, their stages are not counted here)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes checking the rows (default: the import's own choice; 0: none)")
    args = ap.parse_args(argv)
    spent = instrument() if args.breakdown else None
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        _, engine = fresh(args.url, folder, "importa")
        planner, worker = users(engine)
        path = folder / "patti.csv"
        write_csv(path, args.rows, worker)
        before = rss_mb()
        elapsed, own_cpu, workers_cpu, samples, result = timed_import(engine, planner, path, args.rows, args.workers)
        cpu = own_cpu + workers_cpu
        assert not result.problems, result.problems[:5]
        _, raw_engine = fresh(args.url, folder, "grezzo")
        users(raw_engine)
        raw_elapsed, raw_cpu, raw_rows = timed_raw_copy(engine, raw_engine)
        print(f"database: {engine.dialect.name}; righe del file: {args.rows}; carico: {loadavg()}")
        print(f"importazione: {elapsed:.1f} s ({args.rows / elapsed:.0f} righe/s; CPU {cpu:.1f} s: del processo "
              f"{own_cpu:.1f} s, dei processi di controllo {workers_cpu:.1f} s), {len(result.loaded)} casi; "
              f"processi di controllo: {args.workers if args.workers is not None else 'scelta automatica'}")
        print(f"inserimento grezzo delle stesse {raw_rows} righe di tabella: {raw_elapsed:.2f} s "
              f"(CPU del processo {raw_cpu:.2f} s)")
        print(f"rapporto (grezzo / importazione): {raw_elapsed / elapsed:.3f} in tempo reale, "
              f"{raw_cpu / cpu:.3f} in CPU (processo e processi di controllo; obiettivo >= 0.5)")
        per_row = 1e6 / args.rows
        print(f"CPU per riga: processo che scrive {own_cpu * per_row:.0f} us, processi di controllo "
              f"{workers_cpu * per_row:.0f} us in tutto, grezzo {raw_cpu * per_row:.0f} us")
        if workers_cpu:  # what free cores would give: the writer and the workers' share, whichever is longer
            print("stima con core liberi (grezzo / max(processo, controllo / n)): " + ", ".join(
                f"n={n} {raw_cpu / max(own_cpu, workers_cpu / n):.2f}" for n in (1, 2, 3, 4)))
        print(f"memoria residente: {before:.0f} MB prima; durante: "
              + ", ".join(f"{done} righe {mb:.0f} MB" + (" (controllo: " + "/".join(f"{w:.0f}" for w in kids) + ")"
                                                         if kids else "") for done, mb, kids in samples)
              + f"; picco (VmHWM) {vm_hwm_mb():.0f} MB")
        if spent is not None:
            print(f"CPU per riga, per fase, del processo che scrive (su {own_cpu * 1e6 / args.rows:.0f} us per "
                  f"riga del processo, {cpu * 1e6 / args.rows:.0f} in tutto; "
                  f"grezzo {raw_cpu * 1e6 / args.rows:.0f} us):")
            for label, seconds in spent.items():
                print(f"  {seconds * 1e6 / args.rows:7.1f} us  {label}")
        engine.dispose()
        raw_engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
