"""The claims of the nightly jobs' partitions (job_partition): claimed atomically, renewed by a heartbeat,
marked done once, claimed again after an expired lease.

The claim is two statements, each atomic on its own on both databases:
1. INSERT ... ON CONFLICT (job, day, partition) DO NOTHING: the first worker of the day creates the row, running,
   attempt 1; a second worker starting at the same moment inserts nothing (the unique key decides).
2. otherwise one conditional UPDATE takes the row only if it is failed or its lease has expired. On PostgreSQL two
   workers racing for it queue on the row lock and the second re-reads the condition after the first commits
   (READ COMMITTED), finding the lease renewed: it updates nothing. On SQLite writers are serialised. Either way
   exactly one worker gets its row back (RETURNING), as a SELECT ... FOR UPDATE SKIP LOCKED would give, in one round trip.
A done row is never taken again for the day.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.tables import job_partition_t as t
from store.uow import Bind, reading, writing


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _key(job: str, day: date, partition: str):
    return sa.and_(t.c.job == job, t.c.day == day, t.c.partition == partition)


def claim(bind: Bind, job: str, day: date, partition: str, worker: str, lease_seconds: float,
          max_attempts: int, now: datetime | None = None) -> int | None:
    """The attempt number if `worker` now holds the partition, else None (done, or held under a live lease,
    or out of attempts)."""
    now = now or _now()
    row = {"job": job, "day": day, "partition": partition, "status": "running", "claimed_by": worker,
           "claimed_at": now, "lease_until": now + timedelta(seconds=lease_seconds), "attempts": 1}
    with writing(bind) as conn:
        insert = pg_insert(t) if conn.dialect.name == "postgresql" else sqlite_insert(t)
        created = conn.execute(insert.values(**row).on_conflict_do_nothing(
            index_elements=["job", "day", "partition"]).returning(t.c.id)).first()
        if created is not None:
            return 1
        taken = conn.execute(
            t.update().returning(t.c.attempts).where(_key(job, day, partition), t.c.attempts < max_attempts,
                             sa.or_(t.c.status == "failed", sa.and_(t.c.status == "running", t.c.lease_until < now)))
            .values(status="running", claimed_by=worker, claimed_at=now, lease_until=row["lease_until"],
                    attempts=t.c.attempts + 1, last_error=None)).first()
        return None if taken is None else taken.attempts


def renew(bind: Bind, job: str, day: date, partition: str, worker: str, lease_seconds: float) -> bool:
    """The heartbeat: push the lease on while `worker` still holds the partition."""
    with writing(bind) as conn:
        return conn.execute(t.update().where(_key(job, day, partition), t.c.claimed_by == worker,
                                             t.c.status == "running")
                            .values(lease_until=_now() + timedelta(seconds=lease_seconds))
                            .returning(t.c.id)).first() is not None


def finish(bind: Bind, job: str, day: date, partition: str, worker: str, *, result: dict[str, Any] | None = None,
           error: str | None = None) -> bool:
    """Done (with its summary) or failed (with the error, claimable again); only by the worker holding it."""
    with writing(bind) as conn:
        return conn.execute(t.update().where(_key(job, day, partition), t.c.claimed_by == worker,
                                             t.c.status == "running")
                            .values(status="failed" if error else "done", finished_at=_now(), result=result,
                                    last_error=error, lease_until=None).returning(t.c.id)).first() is not None


def of_day(bind: Bind, day: date) -> list[Any]:
    with reading(bind) as conn:
        return conn.execute(sa.select(t).where(t.c.day == day).order_by(t.c.job, t.c.partition)).all()


def one(bind: Bind, job: str, day: date, partition: str) -> Any | None:
    with reading(bind) as conn:
        return conn.execute(sa.select(t).where(_key(job, day, partition))).first()
