"""District reference data: comuni, sub-ambiti, providers, users, policy versions

Revision ID: 0001_district
Revises: None
Create Date: 2026-11-23
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001_district'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('sub_ambito', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('provider_codice', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('district',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('lead_istat', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('managing_company', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('managing_company_email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('planning_office_email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('sub_ambiti_provisional', sa.Boolean(), nullable=False),
    sa.Column('provisional_note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('policy_version',
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('provider',
    sa.Column('codice', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('nome', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('partita_iva', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('comuni', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('codice'),
    sa.UniqueConstraint('partita_iva')
    )
    op.create_table('sub_ambito',
    sa.Column('nome', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('coordinatore_email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('nome')
    )
    op.create_table('comune',
    sa.Column('istat', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('belfiore', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('nome', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('popolazione', sa.Integer(), nullable=False),
    sa.Column('sub_ambito', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('patrono', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('patrono_mmdd', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.ForeignKeyConstraint(['sub_ambito'], ['sub_ambito.nome'], ),
    sa.PrimaryKeyConstraint('istat'),
    sa.UniqueConstraint('belfiore')
    )
    with op.batch_alter_table('comune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comune_sub_ambito'), ['sub_ambito'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('comune', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comune_sub_ambito'))
    op.drop_table('comune')
    op.drop_table('sub_ambito')
    op.drop_table('provider')
    op.drop_table('policy_version')
    op.drop_table('district')
    op.drop_table('app_user')
