"""Tamper-evident audit: hash chains on case_transition and health_access_log, the chains' heads, and triggers
that refuse TRUNCATE, REPLACE and a version bump without a new chain head, even under a replica role

Revision ID: 0007_audit_chain
Revises: 0006_web_session
Create Date: 2026-12-07

Downgrade drops the columns, the head table and the new triggers (the hashes are lost; the history is not).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.audit import GENESIS, HEALTH_LOG_FIELDS, TRANSITION_FIELDS, row_hash

revision: str = "0007_audit_chain"
down_revision: Union[str, None] = "0006_web_session"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

HEALTH_CHAIN = "health_access_log"
HASH = sqlmodel.sql.sqltypes.AutoString(length=64)

PG_TRIGGERS = """
CREATE OR REPLACE FUNCTION legami_refuse_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (TRUNCATE)', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_transition_no_truncate BEFORE TRUNCATE ON case_transition
  FOR EACH STATEMENT EXECUTE FUNCTION legami_refuse_truncate();
CREATE TRIGGER health_access_log_no_truncate BEFORE TRUNCATE ON health_access_log
  FOR EACH STATEMENT EXECUTE FUNCTION legami_refuse_truncate();
CREATE OR REPLACE FUNCTION legami_version_needs_audit() RETURNS trigger AS $$
BEGIN
  IF NEW.version IS DISTINCT FROM OLD.version
     AND (NEW.version <> OLD.version + 1 OR NEW.audit_hash IS NOT DISTINCT FROM OLD.audit_hash) THEN
    RAISE EXCEPTION 'case_file changes version only through a transition with its audit row';
  END IF;
  IF NEW.state IS DISTINCT FROM OLD.state AND NEW.version IS NOT DISTINCT FROM OLD.version THEN
    RAISE EXCEPTION 'case_file.state changes only through a transition';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_file_audit_guard BEFORE UPDATE ON case_file
  FOR EACH ROW EXECUTE FUNCTION legami_version_needs_audit();
ALTER TABLE case_transition ENABLE ALWAYS TRIGGER case_transition_append_only;
ALTER TABLE case_transition ENABLE ALWAYS TRIGGER case_transition_no_truncate;
ALTER TABLE health_access_log ENABLE ALWAYS TRIGGER health_access_log_append_only;
ALTER TABLE health_access_log ENABLE ALWAYS TRIGGER health_access_log_no_truncate;
ALTER TABLE case_file ENABLE ALWAYS TRIGGER case_file_state_guard;
ALTER TABLE case_file ENABLE ALWAYS TRIGGER case_file_audit_guard;
"""

SQLITE_TRIGGERS = [
    # INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers (unless recursive_triggers
    # is on): refuse any insert that would replace a row
    """CREATE TRIGGER case_transition_no_replace BEFORE INSERT ON case_transition
       WHEN EXISTS (SELECT 1 FROM case_transition WHERE id = NEW.id OR (case_id = NEW.case_id AND seq = NEW.seq))
       BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (REPLACE)'); END""",
    """CREATE TRIGGER health_access_log_no_replace BEFORE INSERT ON health_access_log
       WHEN EXISTS (SELECT 1 FROM health_access_log WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'health_access_log is append-only (REPLACE)'); END""",
    """CREATE TRIGGER case_file_audit_guard BEFORE UPDATE OF version, state, audit_hash ON case_file
       WHEN (NEW.version IS NOT OLD.version
             AND (NEW.version <> OLD.version + 1 OR NEW.audit_hash IS OLD.audit_hash))
         OR (NEW.state IS NOT OLD.state AND NEW.version IS OLD.version)
       BEGIN SELECT RAISE(ABORT, 'case_file changes version only through a transition with its audit row'); END""",
    """CREATE TRIGGER case_file_no_replace BEFORE INSERT ON case_file
       WHEN EXISTS (SELECT 1 FROM case_file WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'case_file rows are replaced only by transitions'); END""",
]
SQLITE_NAMES = ("case_transition_no_replace", "health_access_log_no_replace", "case_file_audit_guard",
                "case_file_no_replace")


def upgrade() -> None:
    op.add_column("case_transition", sa.Column("hash", HASH, nullable=True))
    op.add_column("health_access_log", sa.Column("hash", HASH, nullable=True))
    op.add_column("case_file", sa.Column("audit_hash", HASH, nullable=True))
    op.create_table(
        "audit_head",
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def _backfill() -> None:
    """Chain what is already there (rows written before this revision), with the guards off meanwhile."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE case_transition DISABLE TRIGGER case_transition_append_only")
        op.execute("ALTER TABLE health_access_log DISABLE TRIGGER health_access_log_append_only")
    else:
        for name in ("case_transition_no_update", "health_access_log_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    t = sa.table("case_transition", *(sa.column(c) for c in ("id", "hash", *TRANSITION_FIELDS)))
    heads: dict[int, str] = {}
    for row in bind.execute(sa.select(t).order_by(t.c.case_id, t.c.seq)).mappings():
        h = row_hash(heads.get(row["case_id"], GENESIS), row, TRANSITION_FIELDS)
        heads[row["case_id"]] = h
        bind.execute(sa.update(t).where(t.c.id == row["id"]).values(hash=h))
    c = sa.table("case_file", sa.column("id"), sa.column("audit_hash"))
    for case_id, h in heads.items():
        bind.execute(sa.update(c).where(c.c.id == case_id).values(audit_hash=h))
    log = sa.table("health_access_log", *(sa.column(x) for x in ("id", "hash", *HEALTH_LOG_FIELDS)))
    previous, length = GENESIS, 0
    for row in bind.execute(sa.select(log).order_by(log.c.id)).mappings():
        previous = row_hash(previous, row, HEALTH_LOG_FIELDS)
        length += 1
        bind.execute(sa.update(log).where(log.c.id == row["id"]).values(hash=previous))
    bind.execute(sa.text("INSERT INTO audit_head (chain, length, hash) VALUES (:c, :n, :h)"),
                 {"c": HEALTH_CHAIN, "n": length, "h": previous})
    if pg:
        op.execute("ALTER TABLE case_transition ENABLE TRIGGER case_transition_append_only")
        op.execute("ALTER TABLE health_access_log ENABLE TRIGGER health_access_log_append_only")
    else:
        op.execute("""CREATE TRIGGER case_transition_no_update BEFORE UPDATE ON case_transition
                      BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (UPDATE)'); END""")
        op.execute("""CREATE TRIGGER health_access_log_no_update BEFORE UPDATE ON health_access_log
                      BEGIN SELECT RAISE(ABORT, 'health_access_log is append-only (UPDATE)'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_transition_no_truncate ON case_transition")
        op.execute("DROP TRIGGER IF EXISTS health_access_log_no_truncate ON health_access_log")
        op.execute("DROP TRIGGER IF EXISTS case_file_audit_guard ON case_file")
        op.execute("DROP FUNCTION IF EXISTS legami_refuse_truncate()")
        op.execute("DROP FUNCTION IF EXISTS legami_version_needs_audit()")
        for table, name in (("case_transition", "case_transition_append_only"),
                            ("health_access_log", "health_access_log_append_only"),
                            ("case_file", "case_file_state_guard")):
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_head")
    for table, column in (("case_file", "audit_hash"), ("health_access_log", "hash"), ("case_transition", "hash")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite >= 3.35: in place, triggers kept
