"""The case diary: diary_entry, append-only (triggers refuse UPDATE, DELETE, REPLACE and TRUNCATE like the audit
tables), each entry hash-chained per case (head in audit_head as "diario:<case id>"); a health entry's text and
participants are sealed in health_data under seq = -<entry number>

Revision ID: 0011_case_diary
Revises: 0010_nested_health_sealed
Create Date: 2026-12-07

Downgrade drops the table, its triggers, the diary's chain heads and its sealed parts (the entries are lost).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011_case_diary"
down_revision: Union[str, None] = "0010_nested_health_sealed"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PG_TRIGGERS = """
CREATE OR REPLACE FUNCTION legami_refuse_log_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (%)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION legami_refuse_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (TRUNCATE)', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER diary_entry_append_only BEFORE UPDATE OR DELETE ON diary_entry
  FOR EACH ROW EXECUTE FUNCTION legami_refuse_log_change();
CREATE TRIGGER diary_entry_no_truncate BEFORE TRUNCATE ON diary_entry
  FOR EACH STATEMENT EXECUTE FUNCTION legami_refuse_truncate();
ALTER TABLE diary_entry ENABLE ALWAYS TRIGGER diary_entry_append_only;
ALTER TABLE diary_entry ENABLE ALWAYS TRIGGER diary_entry_no_truncate;
"""

SQLITE_TRIGGERS = {
    "diary_entry_no_update": """CREATE TRIGGER diary_entry_no_update BEFORE UPDATE ON diary_entry
       BEGIN SELECT RAISE(ABORT, 'diary_entry is append-only (UPDATE)'); END""",
    "diary_entry_no_delete": """CREATE TRIGGER diary_entry_no_delete BEFORE DELETE ON diary_entry
       BEGIN SELECT RAISE(ABORT, 'diary_entry is append-only (DELETE)'); END""",
    # INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers
    "diary_entry_no_replace": """CREATE TRIGGER diary_entry_no_replace BEFORE INSERT ON diary_entry
       WHEN EXISTS (SELECT 1 FROM diary_entry WHERE id = NEW.id OR (case_id = NEW.case_id AND seq = NEW.seq))
       BEGIN SELECT RAISE(ABORT, 'diary_entry is append-only (REPLACE)'); END""",
}


def upgrade() -> None:
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    op.create_table(
        "diary_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("participants", json_type, nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("data_class", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("author_role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq", name="uq_diary_entry_seq"),
    )
    op.create_index("ix_diary_entry_recorded_at", "diary_entry", ["recorded_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS diary_entry_append_only ON diary_entry")
        op.execute("DROP TRIGGER IF EXISTS diary_entry_no_truncate ON diary_entry")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM health_data WHERE seq < 0")
    op.execute("DELETE FROM audit_head WHERE chain LIKE 'diario:%'")
    op.drop_table("diary_entry")
