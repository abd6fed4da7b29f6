"""SIUSS / Casellario dell'Assistenza: siuss_flow (each flow written for INPS, its XML as validated) and
siuss_item (each benefit in a flow, the attributes sent and INPS's outcome)

Revision ID: 0016_siuss
Revises: 0011_case_diary
Create Date: 2026-12-07

Downgrade drops both tables (the record of what was sent to INPS is lost: the next export would send again).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0016_siuss"
down_revision: Union[str, None] = "0015_import"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    op.create_table(
        "siuss_flow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("operator_cf", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("xml", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_siuss_flow_period", "siuss_flow", ["period"])
    op.create_table(
        "siuss_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("codice_fiscale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("codice_prestazione", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("attributes", json_type, nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("outcome_detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("siuss_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["flow_id"], ["siuss_flow.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_siuss_item_flow_id", "siuss_item", ["flow_id"])
    op.create_index("ix_siuss_item_case_id", "siuss_item", ["case_id"])


def downgrade() -> None:
    op.drop_table("siuss_item")
    op.drop_table("siuss_flow")
