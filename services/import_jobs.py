"""The import page's jobs: an uploaded file checked or loaded in a thread of its own, its progress read by the
page while it runs (services/importing.py does the work; nothing here decides). Jobs live in the web process
that received the upload (one process by default; see README, «Importing existing cases»), the last `KEEP`."""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from domain.access import AccessDenied, import_refusal
from domain.conditions import Principal
from domain.errors import DomainError, NotFound
from services.import_files import FileProblem, Table, sha256_of
from services.importing import ImportResult, run_import

KEEP = 50


@dataclass
class Job:
    id: str
    owner: str
    case_type: str
    file_name: str
    dry_run: bool
    path: Path
    done: int = 0
    total: int | None = None
    status: str = "in_corso"  # in_corso | finito | errore
    error: str = ""
    result: ImportResult | None = None
    started: datetime = field(default_factory=datetime.now)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0


_jobs: OrderedDict[str, Job] = OrderedDict()
_lock = threading.Lock()


def start(engine: Any, user: Principal, case_type: str, path: Path, file_name: str, *, dry_run: bool,
          clock: Callable[[], datetime] | None = None) -> Job:
    """Check access, then check or load the file at `path` in a thread; the page polls `job(...)`."""
    refusal = import_refusal(user, case_type)
    if refusal:
        raise AccessDenied(refusal)
    job = Job(secrets.token_urlsafe(12), user.username, case_type, file_name, dry_run, path)
    with _lock:
        _jobs[job.id] = job
        while len(_jobs) > KEEP:
            _jobs.popitem(last=False)
    thread = threading.Thread(target=_run, args=(engine, user, job, clock), name=f"importa-{job.id}", daemon=True)
    thread.start()
    return job


def _run(engine: Any, user: Principal, job: Job, clock: Callable[[], datetime] | None) -> None:
    try:
        table = Table(job.path, job.case_type)
        job.total = table.total

        def progress(done: int, _total: int | None) -> None:
            job.done = done

        extra = {"clock": clock} if clock is not None else {}
        job.result = run_import(engine, user, job.case_type, table.rows(), file_name=job.file_name,
                                file_sha256=sha256_of(job.path), dry_run=job.dry_run,
                                header_problems=table.problems, progress=progress, total=table.total, **extra)
        job.status = "finito"
    except (DomainError, FileProblem) as exc:
        job.status, job.error = "errore", str(exc)
    except Exception as exc:  # noqa: BLE001 - the page says the import failed; the log keeps the traceback
        import logging

        logging.getLogger(__name__).exception("importazione %s non riuscita", job.id)
        job.status, job.error = "errore", f"errore imprevisto ({exc.__class__.__name__}): nulla è stato scritto"
    finally:
        job.path.unlink(missing_ok=True)


def job(job_id: str, user: Principal) -> Job:
    """The job, to its owner only (anyone else: not found, as if it did not exist)."""
    found = _jobs.get(job_id)
    if found is None or found.owner != user.username:
        raise NotFound("importazione inesistente")
    return found


def jobs_of(user: Principal) -> list[Job]:
    return [j for j in reversed(_jobs.values()) if j.owner == user.username]
