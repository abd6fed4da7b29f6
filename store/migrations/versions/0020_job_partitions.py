"""The partitioned nightly jobs: the claim of each (job, day, partition) with its lease and attempts, and the
tallies materialised per Ambito.

Revision ID: 0020_job_partitions
Revises: 0017_ambiti
Create Date: 2026-12-07

Downgrade drops both tables (the claims are a day's bookkeeping; the per-Ambito tallies can be recomputed as of
any day).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0020_job_partitions"
down_revision: Union[str, None] = "0018_case_ambito"  # re-chained in h-region to merge h-tenancy and h-jobs
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_partition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", _S(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partition", _S(length=40), nullable=False),
        sa.Column("status", _S(length=12), nullable=False),
        sa.Column("claimed_by", _S(length=200), nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("last_error", _S(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "day", "partition", name="uq_job_partition"),
    )
    op.create_index("ix_job_partition_day_status", "job_partition", ["day", "status"])
    op.create_table(
        "ambito_tally_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ambito_code", _S(length=40), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ambito_code", "as_of", name="uq_ambito_tally_snapshot"),
    )


def downgrade() -> None:
    op.drop_table("ambito_tally_snapshot")
    op.drop_index("ix_job_partition_day_status", table_name="job_partition")
    op.drop_table("job_partition")
