"""Cases, append-only audit history, deadlines and the outbox

Revision ID: 0002_cases
Revises: 0001_district
Create Date: 2026-11-23
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002_cases'
down_revision: Union[str, None] = '0001_district'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('codice_fiscale', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cognome', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('nome', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('data_nascita', sa.Date(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('telefono', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('provisional_code', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('codice_fiscale')
    )
    op.create_table('case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('comune_istat', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('related_case_id', sa.Integer(), nullable=True),
    sa.Column('provider_codice', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('outcome_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comune_istat'], ['comune.istat'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['policy_version'], ['policy_version.version'], ),
    sa.ForeignKeyConstraint(['related_case_id'], ['case_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_comune_type', ['comune_istat', 'case_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_provider_codice'), ['provider_codice'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_related_case_id'), ['related_case_id'], unique=False)
        batch_op.create_index('ix_case_type_state', ['case_type', 'state'], unique=False)
    op.create_table('case_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('transition', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', name='uq_case_transition_seq')
    )
    with op.batch_alter_table('case_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transition_effective_at'), ['effective_at'], unique=False)
    op.create_table('deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('started_seq', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('suspended_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_case_status', ['case_id', 'status'], unique=False)
        batch_op.create_index('ix_deadline_status_due', ['status', 'due'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)
    _install_triggers()


APPEND_ONLY_PG = """
CREATE OR REPLACE FUNCTION legami_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'case_transition is append-only (%)', TG_OP;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_transition_append_only BEFORE UPDATE OR DELETE ON case_transition
  FOR EACH ROW EXECUTE FUNCTION legami_refuse_change();
CREATE OR REPLACE FUNCTION legami_state_needs_transition() RETURNS trigger AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND NEW.version <> OLD.version + 1 THEN
    RAISE EXCEPTION 'case_file.state changes only through a transition';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER case_file_state_guard BEFORE UPDATE ON case_file
  FOR EACH ROW EXECUTE FUNCTION legami_state_needs_transition();
"""

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER case_transition_no_update BEFORE UPDATE ON case_transition
       BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (UPDATE)'); END""",
    """CREATE TRIGGER case_transition_no_delete BEFORE DELETE ON case_transition
       BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (DELETE)'); END""",
    """CREATE TRIGGER case_file_state_guard BEFORE UPDATE OF state ON case_file
       WHEN NEW.state IS NOT OLD.state AND NEW.version <> OLD.version + 1
       BEGIN SELECT RAISE(ABORT, 'case_file.state changes only through a transition'); END""",
]


def _install_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_PG)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_transition_append_only ON case_transition")
        op.execute("DROP TRIGGER IF EXISTS case_file_state_guard ON case_file")
        op.execute("DROP FUNCTION IF EXISTS legami_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS legami_state_needs_transition()")
    else:
        for name in ("case_transition_no_update", "case_transition_no_delete", "case_file_state_guard"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next')
    op.drop_table('outbox')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_status_due')
        batch_op.drop_index('ix_deadline_case_status')
    op.drop_table('deadline')
    with op.batch_alter_table('case_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_transition_effective_at'))
    op.drop_table('case_transition')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_type_state')
        batch_op.drop_index(batch_op.f('ix_case_file_related_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_file_provider_codice'))
        batch_op.drop_index(batch_op.f('ix_case_file_person_id'))
        batch_op.drop_index(batch_op.f('ix_case_file_owner'))
        batch_op.drop_index('ix_case_comune_type')
    op.drop_table('case_file')
    op.drop_table('person')
