"""case_document: a case's uploaded and generated documents (DOMAIN.md §14); the bytes live content-addressed
under LEGAMI_DOCUMENTS_DIR (store/documents.py), the row keeps the SHA-256, the protocol and the signature found

Revision ID: 0014_documents
Revises: 0011_case_diary
Create Date: 2026-12-07

Downgrade drops the table (the rows are lost; the files stay where they are).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014_documents"
down_revision: Union[str, None] = "0011_case_diary"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "case_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("origin", S(length=20), nullable=False),
        sa.Column("doc_type", S(length=40), nullable=False),
        sa.Column("act_name", S(length=80), nullable=True),
        sa.Column("filename", S(length=200), nullable=False),
        sa.Column("media_type", S(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", S(length=64), nullable=False),
        sa.Column("data_class", S(length=20), nullable=False),
        sa.Column("protocollo_numero", S(length=40), nullable=True),
        sa.Column("protocollo_data", sa.Date(), nullable=True),
        sa.Column("uploaded_by", S(length=80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("firma_formato", S(length=20), nullable=True),
        sa.Column("firma_integra", sa.Boolean(), nullable=True),
        sa.Column("firmatario_nome", S(length=200), nullable=True),
        sa.Column("firmatario_cf", S(length=16), nullable=True),
        sa.Column("firma_data", sa.DateTime(timezone=True), nullable=True),
        sa.Column("firma_fiducia", S(length=40), nullable=True),
        sa.Column("firma_dettaglio", S(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_document_case_id", "case_document", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_document_case_id", table_name="case_document")
    op.drop_table("case_document")
