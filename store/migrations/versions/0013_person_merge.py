"""The person across measures: person_merge (a provisional code merged into the definitive codice fiscale, with
who, when, why and which cases moved) and the resolution of an identity discrepancy (person_discrepancy gets who
resolved it, when, how and a note)

Revision ID: 0013_person_merge
Revises: 0011_case_diary
Create Date: 2026-12-07

Downgrade drops person_merge (the merge records are lost; the cases stay with the definitive person) and the
resolution columns (resolved discrepancies show again as open).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0013_person_merge"
down_revision: Union[str, None] = "0012_handover"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RESOLUTION = (("resolution", sqlmodel.sql.sqltypes.AutoString(length=20)),
              ("resolution_note", sqlmodel.sql.sqltypes.AutoString(length=500)),
              ("resolved_at", sa.DateTime(timezone=True)),
              ("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=80)))


def upgrade() -> None:
    op.create_table(
        "person_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provisional_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("definitive_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("into_person_id", sa.Integer(), nullable=False),
        sa.Column("case_ids", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("merged_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["into_person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_person_merge_provisional_code", "person_merge", ["provisional_code"])
    op.create_index("ix_person_merge_into_person_id", "person_merge", ["into_person_id"])
    with op.batch_alter_table("person_discrepancy") as batch:
        for name, type_ in RESOLUTION:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person_discrepancy") as batch:
        for name, _ in reversed(RESOLUTION):
            batch.drop_column(name)
    op.drop_index("ix_person_merge_into_person_id", table_name="person_merge")
    op.drop_index("ix_person_merge_provisional_code", table_name="person_merge")
    op.drop_table("person_merge")
