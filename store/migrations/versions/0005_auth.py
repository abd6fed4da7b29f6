"""Authentication (credentials, login throttle, external identities) and the health-data access log

Revision ID: 0005_auth
Revises: 0004_tallies
Create Date: 2026-11-23
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

# Registers the tables in SQLModel.metadata for autogenerate comparisons until store/migrations/env.py
# imports store.auth_tables itself (patch env-auth-tables); the migration below does not use the models.
import store.auth_tables  # noqa: F401

revision: str = "0005_auth"
down_revision: Union[str, None] = "0004_tallies"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "user_credential",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "user_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("method", "subject", name="uq_user_identity_subject"),
    )
    op.create_index("ix_user_identity_user_id", "user_identity", ["user_id"])
    op.create_table(
        "health_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("context", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_health_access_log_case_id", "health_access_log", ["case_id"])
    op.create_index("ix_health_access_log_user_at", "health_access_log", ["username", "read_at"])
    _install_triggers()


# The same pattern as case_transition (0002): UPDATE and DELETE are refused by the database itself.
APPEND_ONLY_PG = """
CREATE OR REPLACE FUNCTION legami_refuse_log_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (%)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER health_access_log_append_only BEFORE UPDATE OR DELETE ON health_access_log
  FOR EACH ROW EXECUTE FUNCTION legami_refuse_log_change();
"""

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER health_access_log_no_update BEFORE UPDATE ON health_access_log
       BEGIN SELECT RAISE(ABORT, 'health_access_log is append-only (UPDATE)'); END""",
    """CREATE TRIGGER health_access_log_no_delete BEFORE DELETE ON health_access_log
       BEGIN SELECT RAISE(ABORT, 'health_access_log is append-only (DELETE)'); END""",
]


def _install_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_PG)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS health_access_log_append_only ON health_access_log")
        op.execute("DROP FUNCTION IF EXISTS legami_refuse_log_change()")
    else:
        for name in ("health_access_log_no_update", "health_access_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_health_access_log_user_at", table_name="health_access_log")
    op.drop_index("ix_health_access_log_case_id", table_name="health_access_log")
    op.drop_table("health_access_log")
    op.drop_index("ix_user_identity_user_id", table_name="user_identity")
    op.drop_table("user_identity")
    op.drop_table("login_throttle")
    op.drop_table("user_credential")
