"""A large file's rows checked in worker processes (services/import_parallel.py): a worker that fails, by an error
or by dying, fails the load and nothing of the file stays; a load started from a thread (the import page's jobs)
starts its workers from a fork server and loads what the load without workers loads. That the rows written are
those of the step-by-step load is tests/integration/test_import_batch.py's comparison, made with workers too."""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from domain.validation import make_codice_fiscale
from services import import_parallel
from services.access import principal_for
from services.import_files import Table
from services.importing import run_import
from store.tables import case_t, person_t
from store.tables_casework import case_import_t
from tests.integration.test_import import NOW, source  # noqa: F401  (module fixture)
from tests.integration.test_import_batch import _patti, _patto, _rows, fresh  # noqa: F401  (fixture)


def _file(path, rows: int) -> None:
    _patti(path, [_patto(f"W{i}", make_codice_fiscale("Rossi", "Anna", date(1950, 1, 1) + timedelta(days=i), "F",
                                                     "D142"), "Rossi", "Anna",
                         f"{date(1950, 1, 1) + timedelta(days=i):%d/%m/%Y}") for i in range(rows)])


def _load(engine, planner, path, **kwargs):
    table = Table(path, "patto")
    return run_import(engine, principal_for(engine, planner), "patto", table.rows(), file_name=path.name,
                      file_sha256="0" * 64, dry_run=False, clock=lambda: NOW, total=table.total, **kwargs)


def _failing_check(how):
    check = import_parallel._check

    def failing(number, cells, case_id):
        if number == 700:
            if how == "dies":
                os._exit(1)
            raise RuntimeError("un processo di controllo si è fermato")
        return check(number, cells, case_id)

    return failing


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_worker_that_fails_fails_the_load_and_nothing_of_the_file_stays(source, fresh, tmp_path, monkeypatch,
                                                                           how):
    """Row 700 is in the second batch: the first (rows 2-501) is already written in the file's transaction when
    the failure comes back; the transaction is rolled back."""
    engine = fresh()
    path = tmp_path / "patti.csv"
    _file(path, 1200)
    monkeypatch.setattr(import_parallel, "_check", _failing_check(how))
    monkeypatch.setattr(import_parallel, "_context", lambda: multiprocessing.get_context("fork"))  # inherits it
    with pytest.raises(BrokenProcessPool if how == "dies" else RuntimeError):
        _load(engine, source[3], path, workers=2)
    with engine.connect() as conn:
        assert [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in (case_t, person_t, case_import_t)] == [0, 0, 0]


def test_a_load_started_from_a_thread_uses_a_fork_server_and_loads_what_the_load_without_workers_loads(
        source, fresh, tmp_path, monkeypatch):
    path = tmp_path / "patti.csv"
    _file(path, 600)
    alone = fresh()
    expected = _load(alone, source[3], path, workers=0)
    threaded = fresh()
    found, started = [], []
    context = import_parallel._context
    monkeypatch.setattr(import_parallel, "_context", lambda: started.append(context()) or started[-1])
    thread = threading.Thread(target=lambda: found.append(_load(threaded, source[3], path, workers=2)))
    thread.start()
    thread.join()
    assert [c.get_start_method() for c in started] == ["forkserver"]
    assert found and (found[0].loaded, found[0].problems) == (expected.loaded, expected.problems)
    assert len(expected.loaded) == 600
    assert _rows(threaded) == _rows(alone)


def test_with_workers_the_progress_still_counts_every_row_in_order_up_to_the_file_s_total(source, fresh, tmp_path):
    """What the CLI's progress bar and the page's percentage read."""
    path = tmp_path / "patti.csv"
    _file(path, 650)
    seen = []
    result = _load(fresh(), source[3], path, workers=2, progress=lambda done, total: seen.append((done, total)))
    assert len(result.loaded) == 650 and not result.problems
    assert [done for done, _ in seen] == [*range(100, 651, 100), 650] and {total for _, total in seen} == {650}
