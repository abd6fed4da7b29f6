"""One Ambito's pages read what is theirs in an instance of many Ambiti: the reminders and escalations sent to a
user (the Oggi pages look them up by recipient: without an index, a scan of every Ambito's reminder_log), the
statutory deadlines passed (the planning office's Oggi: not every overdue deadline of every Ambito filtered by
source), and the Ambito's first opened case (the dashboard's years: the minimum over the Ambito's cases).

Revision ID: 0022_region_reads
Revises: 0021_siuss_pending
Create Date: 2026-12-08

Downgrade drops the three indexes.
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0022_region_reads"
down_revision: Union[str, None] = "0021_siuss_pending"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_reminder_log_recipient", "reminder_log", ["recipient", "stage"])
    op.create_index("ix_case_ambito_opened", "case_file", ["ambito_code", "opened_at"])
    op.create_index("ix_deadline_status_source_due", "deadline", ["status", "source", "due"])


def downgrade() -> None:
    op.drop_index("ix_deadline_status_source_due", table_name="deadline")
    op.drop_index("ix_case_ambito_opened", table_name="case_file")
    op.drop_index("ix_reminder_log_recipient", table_name="reminder_log")
