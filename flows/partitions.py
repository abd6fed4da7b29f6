"""The nightly jobs, partitioned by Ambito: plain Python, no Prefect here (flows/night.py wraps it in flows).

A partition is (job, day, partition): the sweep, the obligations check and the tallies run once per Ambito (the
partition is the Ambito's code); the dispatch runs once for the instance ("tutti": the outbox is already claimed
row by row with SKIP LOCKED, so dispatchers never collide, and its digests are per recipient, not per Ambito).

`run_partition(job, ambito, day)` claims the partition (store/partitions.py), runs the job's service while a
heartbeat thread renews the lease, and marks it done with the service's summary. A done partition is skipped; one
held by a live worker is skipped (that worker is doing it); one whose lease expired (its worker crashed) is
claimed again and re-run from the start, which is safe because every job is idempotent per day (the sweep and the
obligations by the reminder log, the tallies by replacing the day's snapshot, the dispatch by its own claims).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from store import partitions as store

MAX_ATTEMPTS = 3
PER_AMBITO = ("scadenze", "obblighi", "conteggi")  # in this order within an Ambito's run
WHOLE = "tutti"  # the partition of a job run once for the instance
JOBS = (*PER_AMBITO, "invio")


def _sweep(engine: Engine, ambito: str | None, day: date) -> dict[str, Any]:
    from services.sweep import run_deadline_sweep

    return run_deadline_sweep(engine, as_of=day, ambito=ambito).as_dict()


def _obligations(engine: Engine, ambito: str | None, day: date) -> dict[str, Any]:
    from services.obligations import run_obligations_check

    summary = run_obligations_check(engine, as_of=day, ambito=ambito).as_dict()
    return {k: v for k, v in summary.items() if k != "obblighi"} | {"occorrenze": len(summary["obblighi"])}


def _tallies(engine: Engine, ambito: str | None, day: date) -> dict[str, Any]:
    from services.tallies import materialise

    return {"al": day.isoformat(), "ripartizioni": sorted(materialise(engine, as_of=day, ambito=ambito))}


def _dispatch(engine: Engine, ambito: str | None, day: date) -> dict[str, Any]:
    from config.settings import get_settings
    from notifications.dispatch import dispatch_from_settings

    return dispatch_from_settings(engine, get_settings()).as_dict()


RUNNERS: dict[str, Callable[[Engine, str | None, date], dict[str, Any]]] = {
    "scadenze": _sweep, "obblighi": _obligations, "conteggi": _tallies, "invio": _dispatch}


def worker_name() -> str:
    """host:pid of this process: what `legami jobs partizioni` shows, and the process a test kills."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ambiti(engine: Engine) -> list[str]:
    """The codes of the instance's Ambiti, the default first."""
    from store import reference

    return [a.code for a in sorted(reference.ambiti(engine), key=lambda a: (not a.is_default, a.code))]


def partitions_of(engine: Engine, job: str) -> list[str]:
    if job not in RUNNERS:
        raise ValueError(f"lavoro sconosciuto: «{job}» (scegliere tra {', '.join(JOBS)})")
    return ambiti(engine) if job in PER_AMBITO else [WHOLE]


def run_partition(job: str, ambito: str, day: date, *, engine: Engine | None = None,
                  lease_seconds: float | None = None, pause_seconds: float | None = None) -> dict[str, Any]:
    """Claim and run one partition; {"stato": "fatto" | "già fatto" | "in corso altrove" | ..., ...}."""
    from config.settings import get_settings

    settings = get_settings()
    if engine is None:
        from store.db import cached_engine

        engine = cached_engine(settings.database_url)
    lease = lease_seconds if lease_seconds is not None else settings.job_lease_seconds
    pause = pause_seconds if pause_seconds is not None else settings.job_pause_seconds
    runner = RUNNERS.get(job)
    if runner is None:
        raise ValueError(f"lavoro sconosciuto: «{job}» (scegliere tra {', '.join(JOBS)})")
    me = worker_name()
    attempt = store.claim(engine, job, day, ambito, me, lease, MAX_ATTEMPTS)
    if attempt is None:
        row = store.one(engine, job, day, ambito)
        state = {"done": "già fatto", "running": "in corso altrove"}.get(row.status, "tentativi esauriti")
        return {"lavoro": job, "partizione": ambito, "stato": state, "di": row.claimed_by}
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(engine, job, day, ambito, me, lease, stop), daemon=True)
    beat.start()
    try:
        result = runner(engine, None if ambito == WHOLE else ambito, day)
        if pause and settings.job_pause_partition in ("", f"{job}:{ambito}:{day.isoformat()}") and attempt == 1:
            time.sleep(pause)  # the test hook: the work is committed, the partition not yet marked done
    except BaseException as exc:
        stop.set()
        store.finish(engine, job, day, ambito, me, error=f"{exc.__class__.__name__}: {exc}"[:2000])
        raise
    stop.set()
    store.finish(engine, job, day, ambito, me, result=result)
    return {"lavoro": job, "partizione": ambito, "stato": "fatto", "tentativo": attempt, "di": me, "esito": result}


def _heartbeat(engine: Engine, job: str, day: date, partition: str, worker: str, lease: float,
               stop: threading.Event) -> None:
    while not stop.wait(max(lease / 3, 0.5)):
        try:
            if not store.renew(engine, job, day, partition, worker, lease):
                return
        except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
            continue


def run_ambiti(ambiti_: list[str], day: date, jobs: tuple[str, ...] = PER_AMBITO, **kwargs: Any) -> list[dict]:
    """One flow run's work: every job of `jobs` for each Ambito of `ambiti_` (a partition of the Ambiti)."""
    return [run_partition(job, code, day, **kwargs) for code in ambiti_ for job in jobs]


def run_night(day: date, *, engine: Engine | None = None) -> list[dict]:
    """The whole night in this process, partition by partition (no Prefect): what a single machine does, and
    what the partitions' bookkeeping makes safe to run beside workers doing the same."""
    from config.settings import get_settings
    from store.db import cached_engine

    engine = engine or cached_engine(get_settings().database_url)
    done = run_ambiti(ambiti(engine), day, engine=engine)
    return done + [run_partition("invio", WHOLE, day, engine=engine)]


def claims(engine: Engine, day: date) -> list[dict[str, Any]]:
    """The day's claims, as `legami jobs partizioni --json` prints them."""
    return [{"lavoro": r.job, "giorno": r.day.isoformat(), "partizione": r.partition, "stato": r.status,
             "di": r.claimed_by, "tentativi": r.attempts,
             "scadenza_lease": r.lease_until.isoformat() if r.lease_until else None,
             "concluso": r.finished_at.isoformat() if r.finished_at else None, "errore": r.last_error}
            for r in store.of_day(engine, day)]
