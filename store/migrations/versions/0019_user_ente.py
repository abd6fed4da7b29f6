"""Users of a managing body: an administrative user (csc_admin) may be tied to one ente gestore, whose
administrative staff they are (services/directory.py reaches them for the cases of the comuni it manages).

Revision ID: 0019_user_ente
Revises: 0017_ambiti
Create Date: 2026-12-07

Upgrade adds the nullable column (every existing user stays untied: reached as before). Downgrade drops it.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019_user_ente"
down_revision: Union[str, None] = "0018_case_ambito"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("ente_gestore", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("app_user", "ente_gestore")
