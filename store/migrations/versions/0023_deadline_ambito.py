"""The deadline carries its case's Ambito: one Ambito's open deadlines are read by an index that leads with it,
not picked out of every Ambito's by (status, due) and joined to the Ambito's cases (a coordinator's Oggi in a
region of 91 Ambiti read 37,374 overdue deadlines to keep ~1,200).

Revision ID: 0023_deadline_ambito
Revises: 0022_region_reads
Create Date: 2026-12-08

Upgrade adds deadline.ambito_code, backfilled from its case's (case_file.ambito_code), NOT NULL like the case's
(on SQLite with an empty default, as 0018: every INSERT sets it), and the index (ambito_code, status, due).
Downgrade drops the index and the column.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023_deadline_ambito"
down_revision: Union[str, None] = "0022_region_reads"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("deadline", sa.Column("ambito_code", _S(length=40), nullable=not sqlite,
                                        server_default="" if sqlite else None))
    op.execute("UPDATE deadline SET ambito_code = "
               "(SELECT case_file.ambito_code FROM case_file WHERE case_file.id = deadline.case_id)")
    if not sqlite:
        op.alter_column("deadline", "ambito_code", existing_type=_S(length=40), nullable=False)
    op.create_index("ix_deadline_ambito_status_due", "deadline", ["ambito_code", "status", "due"])


def downgrade() -> None:
    op.drop_index("ix_deadline_ambito_status_due", table_name="deadline")
    op.drop_column("deadline", "ambito_code")
