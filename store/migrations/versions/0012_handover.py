"""Hand-over and deputies: the deputyship table (a deputy named for a social worker over a period) and
case_transition.on_behalf_of (a deputy's act names the absent owner; hashed into the step's chain only when set,
so every row written before keeps its hash)

Revision ID: 0012_handover
Revises: 0011_case_diary
Create Date: 2026-12-07

Downgrade drops both (the deputyships and the names of the owners deputies acted for are lost; the chains of
the steps a deputy fired then no longer verify).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_handover"
down_revision: Union[str, None] = "0011_case_diary"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = sqlmodel.sql.sqltypes.AutoString(length=80)


def upgrade() -> None:
    op.create_table(
        "deputyship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker", NAME, nullable=False),
        sa.Column("deputy", NAME, nullable=False),
        sa.Column("dal", sa.Date(), nullable=False),
        sa.Column("al", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("named_by", NAME, nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", NAME, nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deputyship_worker", "deputyship", ["worker"])
    op.create_index("ix_deputyship_deputy_period", "deputyship", ["deputy", "dal", "al"])
    op.add_column("case_transition", sa.Column("on_behalf_of", NAME, nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (PostgreSQL; SQLite >= 3.35): a batch copy would lose case_transition's triggers
    op.execute("ALTER TABLE case_transition DROP COLUMN on_behalf_of")
    op.drop_index("ix_deputyship_deputy_period", table_name="deputyship")
    op.drop_index("ix_deputyship_worker", table_name="deputyship")
    op.drop_table("deputyship")
