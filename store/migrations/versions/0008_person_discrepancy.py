"""Identity discrepancies: a referral's typed name or birth date that differs from the stored person is kept

Revision ID: 0008_person_discrepancy
Revises: 0007_audit_chain
Create Date: 2026-12-08

Downgrade drops the table (the typed identities it kept are lost; cases and people are not touched).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008_person_discrepancy"
down_revision: Union[str, None] = "0007_audit_chain"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "person_discrepancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("cognome", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("nome", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("data_nascita", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index("ix_person_discrepancy_person_id", "person_discrepancy", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_discrepancy_person_id", table_name="person_discrepancy")
    op.drop_table("person_discrepancy")
