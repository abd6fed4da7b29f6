"""Local day of every audit row (tallies group by it) and the daily tally snapshot

Revision ID: 0004_tallies
Revises: 0003_reminders
Create Date: 2026-11-23
"""
from datetime import timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_tallies"
down_revision: Union[str, None] = "0003_reminders"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROME = ZoneInfo("Europe/Rome")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.add_column("case_transition", sa.Column("effective_on", sa.Date(), nullable=True))
        op.execute("ALTER TABLE case_transition DISABLE TRIGGER case_transition_append_only")
        op.execute("UPDATE case_transition SET effective_on = (effective_at AT TIME ZONE 'Europe/Rome')::date")
        op.execute("ALTER TABLE case_transition ENABLE TRIGGER case_transition_append_only")
        op.alter_column("case_transition", "effective_on", nullable=False)
    else:
        # SQLite: rebuild the table (batch mode) with the column filled in, the append-only triggers around it
        op.execute("DROP TRIGGER IF EXISTS case_transition_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_transition_no_delete")
        op.add_column("case_transition", sa.Column("effective_on", sa.Date(), nullable=True))
        audit = sa.table("case_transition", sa.column("id", sa.Integer()), sa.column("effective_at", sa.DateTime()))
        rows = bind.execute(sa.select(audit.c.id, audit.c.effective_at)).all()
        for row_id, at in rows:  # stored in UTC without an offset
            day = at.replace(tzinfo=timezone.utc).astimezone(ROME).date()
            bind.execute(sa.text("UPDATE case_transition SET effective_on = :d WHERE id = :i"), {"d": day, "i": row_id})
        with op.batch_alter_table("case_transition") as batch:
            batch.alter_column("effective_on", nullable=False)
        op.execute("""CREATE TRIGGER case_transition_no_update BEFORE UPDATE ON case_transition
                      BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (UPDATE)'); END""")
        op.execute("""CREATE TRIGGER case_transition_no_delete BEFORE DELETE ON case_transition
                      BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (DELETE)'); END""")
    op.create_index("ix_case_transition_effective_on", "case_transition", ["effective_on"])
    op.create_index("ix_case_transition_name_day", "case_transition", ["transition", "effective_on"])
    op.create_table(
        "tally_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("as_of"),
    )


def downgrade() -> None:
    op.drop_table("tally_snapshot")
    op.drop_index("ix_case_transition_name_day", table_name="case_transition")
    op.drop_index("ix_case_transition_effective_on", table_name="case_transition")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("case_transition", "effective_on")
        return
    op.execute("DROP TRIGGER IF EXISTS case_transition_no_update")
    op.execute("DROP TRIGGER IF EXISTS case_transition_no_delete")
    with op.batch_alter_table("case_transition") as batch:
        batch.drop_column("effective_on")
    op.execute("""CREATE TRIGGER case_transition_no_update BEFORE UPDATE ON case_transition
                  BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (UPDATE)'); END""")
    op.execute("""CREATE TRIGGER case_transition_no_delete BEFORE DELETE ON case_transition
                  BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (DELETE)'); END""")
