"""The SIUSS obligation's count without recomputing the whole export on each Oggi view: the benefits pending as
of a month's end per Ambito, with the marks of what the computation had seen (services/siuss.pending_cases).

Revision ID: 0021_siuss_pending
Revises: 0020_job_partitions
Create Date: 2026-12-07

Downgrade drops the table (a derived answer: the next reader computes it in full).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0021_siuss_pending"
down_revision: Union[str, None] = "0020_job_partitions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "siuss_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ambito_code", _S(length=40), nullable=False),
        sa.Column("up_to", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transition_mark", sa.Integer(), nullable=False),
        sa.Column("item_mark", sa.Integer(), nullable=False),
        sa.Column("merge_mark", sa.Integer(), nullable=False),
        sa.Column("codes_digest", _S(length=64), nullable=False),
        sa.Column("case_ids", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ambito_code", "up_to", name="uq_siuss_pending"),
    )


def downgrade() -> None:
    op.drop_table("siuss_pending")
