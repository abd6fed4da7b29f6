"""A large file's rows checked in worker processes while the load's process writes (issue 14: the load of 50,000
rows at half the cost of a raw bulk insert in the time the user waits).

Split of the work: the load's process (services/importing.py) reads the file, decides for each row, in order,
whether it repeats an external id of the file or is already imported (`external_id_of`: the id as parse_row reads
it) and gives every other row its case id beforehand (`BatchWriter.case_ids`, in the file's order: the ids the
step-by-step load gives); the workers parse the rows, replay their steps through the engine (the forms' models,
the guards, the deadlines: `RowChecker`) and build each case's rows with its history's hash chain
(`BatchWriter.rows_of`, the batched load's own code); the load's process takes the answers back in the file's order,
links each case to its person (new or stored: the people a batch names are read per batch, as without workers),
writes the batch and reports progress. Same rows, same bytes, same problems in the same order: tests/integration/
test_import_batch.py loads every file three ways (step by step, batched, with workers) and compares every row.

What a worker cannot know it does not guess: a guard that asks about other cases, a provider or a call
(`DetachedWorld`) sends its row back, and the load's process checks that row itself, in its turn, where the world
sees every earlier row of the file. All or nothing per file stays: a row with a problem stops the writing as
before, and a worker that fails (an exception, a killed process) fails the load, whose transaction is then rolled
back. Memory stays flat: at most `AHEAD` batches of rows are in flight.

Workers are started by fork when the calling process has a single thread (the CLI: no start-up cost), else from
a fork server (the web process runs the load in a thread of its own; forking a threaded process is unsafe).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from domain.import_template import external_id_of, parse_row
from services.import_batch import BatchWriter
from services.import_check import DetachedWorld, NeedsWorld, RowChecker, RowRefused
from store import imports as store

MIN_ROWS = 2_000  # a smaller file is checked in the load's process: starting workers would cost more than they save
CHUNK = 100  # rows per task sent to a worker
AHEAD = 3  # batches read and sent ahead of the one being written

WORLD = "world"  # a worker's answer: the row asks about other cases; the load's process checks it


def workers_for(asked: int | None, total: int | None) -> int:
    """How many worker processes check a file of `total` rows: `asked` if given (0: none), else the setting
    LEGAMI_IMPORT_WORKERS, else one fewer than the machine's cores (at most 4), for files of MIN_ROWS or more."""
    if asked is not None:
        return max(asked, 0)
    if total is None or total < MIN_ROWS:
        return 0
    from config.settings import get_settings

    configured = get_settings().import_workers
    if configured is not None:
        return configured
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def spec(loader: Any, conn: Any, *, write: bool) -> dict[str, Any]:
    """What a worker needs to check rows as the load's process would: read once, sent once per worker."""
    return {"user": loader.user, "case_type": loader.ct.case_type, "file_name": loader.file_name,
            "now": loader.now, "versions": loader.versions,
            "calendars": {p.version: loader.calendar_of(p) for p in loader.versions},
            "comuni": loader.comuni, "parents": loader.parents, "users": store.active_users(conn),
            "sub_ambiti": loader.svc.sub_ambiti(), "dialect": conn.dialect.name, "write": write,
            "recorded_at": loader.batch.recorded_at, "import_day": loader.batch.import_day}


# ------------------------------------------------------------------------------------------ in a worker

_worker: dict[str, Any] = {}


def _start(given: dict[str, Any]) -> None:
    from services.importing import template_columns
    from store.hot_sql import _SQL

    ct, cols = template_columns(given["case_type"])
    calendars = given["calendars"]
    checker = RowChecker(given["user"], ct, cols, given["file_name"])
    checker.ready(given["now"], DetachedWorld(given["users"], given["sub_ambiti"]), given["versions"],
                  lambda policy: calendars[policy.version], given["comuni"], given["parents"])
    builder = BatchWriter(ct.case_type, given["recorded_at"], given["user"].username, given["import_day"])
    _worker.update(checker=checker, cols=cols, builder=builder, sql=_SQL[given["dialect"]], write=given["write"],
                   calendars=calendars)
    gc.freeze()  # what the worker holds now lives as long as it does: the collector no longer walks it


def check_chunk(items: list[tuple[int, Mapping[str, Any], int | None]]) -> list[tuple[list, Any]]:
    """Each row's (parse problems, answer): the answer is ("refused", problems), WORLD, or ("ok", person, rows)
    with the case's rows built under the given id (None when nothing is to be written)."""
    return [_check(number, cells, case_id) for number, cells, case_id in items]


def _check(number: int, cells: Mapping[str, Any], case_id: int | None) -> tuple[list, Any]:
    checker: RowChecker = _worker["checker"]
    parsed = parse_row(_worker["cols"], number, cells)
    if parsed.problems:
        return parsed.problems, None
    try:
        decisions, last = checker.decide_row(parsed)
    except RowRefused as refused:
        return [], ("refused", refused.problems)
    except NeedsWorld:
        return [], WORLD
    if case_id is None:
        return [], ("ok", None, None)
    calendar = _worker["calendars"][last.policy_version]
    comune = last.comune_istat
    rows = _worker["builder"].rows_of(_worker["sql"], case_id, decisions, comune=comune,
                                      related=last.related_case_id, policy_version=last.policy_version,
                                      roll=lambda day: calendar.next_working_day(day, comune))
    return [], ("ok", decisions[0][1].person, rows)


# ------------------------------------------------------------------------------------------ in the load

def _context() -> Any:
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["services.importing", "services.import_parallel"])
    return context


def load(loader: Any, conn: Any, batches: Iterable[list[tuple[int, Mapping[str, Any]]]], result: Any, *,
         dry_run: bool, workers: int, progress: Any, total: int | None) -> None:
    """Every batch checked by `workers` processes and written in order by this one (see the module's note)."""
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start,
                               initargs=(spec(loader, conn, write=not dry_run),))
    try:
        window: deque[tuple[list, list, list[Future]]] = deque()
        for batch in batches:
            window.append(_send(pool, loader, conn, batch, dry_run=dry_run))
            if len(window) > AHEAD:
                _take(loader, conn, *window.popleft(), result, dry_run=dry_run, progress=progress, total=total)
        while window:
            _take(loader, conn, *window.popleft(), result, dry_run=dry_run, progress=progress, total=total)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _send(pool: ProcessPoolExecutor, loader: Any, conn: Any, batch: list[tuple[int, Mapping[str, Any]]], *,
          dry_run: bool) -> tuple[list, list, list[Future]]:
    """The batch's rows sorted out in the file's order (repeats, already imported), ids given, chunks sent."""
    meta: list[tuple[int, str, Any, Mapping[str, Any]]] = []  # (row, external id, repeat problem or "skip", cells)
    for number, cells in batch:
        ext = external_id_of(loader.cols, cells)
        repeated = loader.repeated(ext, number)
        meta.append((number, ext, "skip" if ext and ext in loader.known else repeated, cells))
    checked = [m for m in meta if m[2] != "skip"]
    ids = [None] * len(checked) if dry_run else loader.batch.case_ids.take(conn, len(checked))
    items = [(number, cells, id_) for (number, _, _, cells), id_ in zip(checked, ids)]
    futures = [pool.submit(check_chunk, items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
    return batch, _with_ids(meta, ids), futures


def _with_ids(meta: list[tuple], ids: list[int | None]) -> list[tuple]:
    given = iter(ids)
    return [(*m, None if m[2] == "skip" else next(given)) for m in meta]


def _take(loader: Any, conn: Any, batch: list, meta: list[tuple], futures: list[Future], result: Any, *,
          dry_run: bool, progress: Any, total: int | None) -> None:
    """A batch's answers, in the file's order, queued and written as the load without workers would."""
    from services.importing import Problem

    answers = iter([answer for future in futures for answer in future.result()])  # a worker's failure: raised
    loader.prefetch(conn, batch)
    for number, ext, mark, cells, case_id in meta:
        result.rows += 1
        if mark == "skip":
            result.skipped.append((number, ext, loader.known[ext]))
        else:
            parse_problems, answer = next(answers)
            problems = list(parse_problems) + ([mark] if mark else [])
            write = not dry_run and not result.problems
            if problems:
                result.problems += [Problem(number, column, message) for column, message in problems]
            elif answer == WORLD:  # checked here, in its turn (the world sees every earlier row)
                loader.settle(conn, parse_row(loader.cols, number, cells), [], result, write=write, case_id=case_id)
            elif answer[0] == "refused":
                result.problems += [Problem(number, column, message) for column, message in answer[1]]
            elif write:
                result.loaded.append((number, ext, loader.write_built(conn, number, ext, case_id, *answer[1:])))
            else:
                result.loaded.append((number, ext, 0))
        if progress is not None and result.rows % 100 == 0:
            progress(result.rows, total)
    loader.flush(conn)

