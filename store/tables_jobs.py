"""SQLModel tables of the partitioned nightly jobs: the claim of each (job, day, partition) and the tallies
materialised per Ambito. Re-exported by `store.tables`."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import JSONType, UTCDateTime  # noqa: F401


class JobPartition(SQLModel, table=True):
    """One partition of one nightly job for one day (flows/partitions.py): claimed by one worker at a time under a
    lease it renews while it runs; `done` is never run again that day; a lease that expired (a crashed worker) is
    claimed again (attempts + 1) and the partition re-run, idempotently."""

    __tablename__ = "job_partition"
    __table_args__ = (sa.UniqueConstraint("job", "day", "partition", name="uq_job_partition"),
                      sa.Index("ix_job_partition_day_status", "day", "status"))
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    day: date
    partition: str = Field(max_length=40)  # an Ambito's code, or "tutti" for a job run once for the instance
    status: str = Field(max_length=12)  # running | done | failed
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    last_error: str | None = None


job_partition_t = JobPartition.__table__


class AmbitoTallySnapshot(SQLModel, table=True):
    """One Ambito's indicators as computed on a day (the per-Ambito night; `tally_snapshot` keeps the instance's)."""

    __tablename__ = "ambito_tally_snapshot"
    __table_args__ = (sa.UniqueConstraint("ambito_code", "as_of", name="uq_ambito_tally_snapshot"),)
    id: int | None = Field(default=None, primary_key=True)
    ambito_code: str = Field(max_length=40, foreign_key="district.code")
    as_of: date
    computed_at: datetime = Field(sa_type=UTCDateTime)
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


ambito_tally_snapshot_t = AmbitoTallySnapshot.__table__
