"""Tenancy on the case: case_file.ambito_code (NOT NULL), the Ambito of the case's comune (a record placed in no
comune: its opener's, else the default Ambito); indexes that serve the scoped reads lead with it.

Revision ID: 0018_case_ambito
Revises: 0017_ambiti
Create Date: 2026-12-07

Upgrade backfills every case from its comune's Ambito, else (a record placed in no comune) its opener's Ambito,
else the default one, and then makes the column NOT NULL.
Downgrade drops the indexes and the column.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018_case_ambito"
down_revision: Union[str, None] = "0017_ambiti"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString
_INDEXES = {"ix_case_ambito_type_state": ["ambito_code", "case_type", "state"],
            "ix_case_ambito_owner": ["ambito_code", "owner"]}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite cannot make a column NOT NULL without rebuilding case_file, which its foreign keys refuse once
    # cases exist: there it is added NOT NULL with an empty default (every INSERT sets it, reference.case_ambito_sql)
    op.add_column("case_file", sa.Column("ambito_code", _S(length=40), nullable=not sqlite,
                                         server_default="" if sqlite else None))
    op.execute("UPDATE case_file SET ambito_code = COALESCE("
               "(SELECT comune.ambito_code FROM comune WHERE comune.istat = case_file.comune_istat), "
               "(SELECT app_user.ambito_code FROM case_transition JOIN app_user ON app_user.username = "
               "case_transition.actor WHERE case_transition.case_id = case_file.id AND case_transition.seq = 1), "
               "(SELECT district.code FROM district WHERE district.is_default ORDER BY district.code LIMIT 1), "
               "(SELECT district.code FROM district ORDER BY district.code LIMIT 1))")
    if not sqlite:
        op.alter_column("case_file", "ambito_code", existing_type=_S(length=40), nullable=False)
    for name, columns in _INDEXES.items():
        op.create_index(name, "case_file", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="case_file")
    op.drop_column("case_file", "ambito_code")
