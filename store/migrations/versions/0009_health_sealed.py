"""Health data sealed: the health-class keys of case_file.data and case_transition.data move, encrypted, to
health_data (store/sealed.py)

Revision ID: 0009_health_sealed
Revises: 0008_person_discrepancy
Create Date: 2026-12-07

Upgrade encrypts with the current key of LEGAMI_HEALTH_KEYS (in development, the key derived from the secret
key). The audit rows' hashes do not change: a row's hash covers the step's data as recorded, health part
included, and `legami audit verify` decrypts it to check the row.
Downgrade decrypts every sealed part back into its row (the keys that sealed them must be in LEGAMI_HEALTH_KEYS)
and drops health_data: the health data is then in clear again, as before this revision.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_health_sealed"
down_revision: Union[str, None] = "0008_person_discrepancy"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CASES = sa.table("case_file", sa.column("id"), sa.column("case_type"), sa.column("data", sa.JSON))
STEPS = sa.table("case_transition", sa.column("id"), sa.column("case_id"), sa.column("seq"),
                 sa.column("data", sa.JSON))
SEALED = sa.table("health_data", sa.column("id"), sa.column("case_id"), sa.column("seq"), sa.column("key_id"),
                  sa.column("nonce", sa.LargeBinary), sa.column("ciphertext", sa.LargeBinary))


def upgrade() -> None:
    op.create_table(
        "health_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq", name="uq_health_data_case_seq"),
    )
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(CASES)).scalar_one() == 0:
        return  # a new database: nothing to move
    from store.sealed import seal, split

    types: dict[int, str] = {}
    for row in bind.execute(sa.select(CASES.c.id, CASES.c.case_type, CASES.c.data)).all():
        types[row.id] = row.case_type
        plain, health = split(row.case_type, row.data)
        if health:
            bind.execute(sa.update(CASES).where(CASES.c.id == row.id).values(data=plain))
            _insert(bind, row.id, 0, seal(health, row.id, 0))
    with _history_writable(bind):
        for row in bind.execute(sa.select(STEPS.c.id, STEPS.c.case_id, STEPS.c.seq, STEPS.c.data)).all():
            plain, health = split(types[row.case_id], row.data)
            if health:
                bind.execute(sa.update(STEPS).where(STEPS.c.id == row.id).values(data=plain))
                _insert(bind, row.case_id, row.seq, seal(health, row.case_id, row.seq))


def _insert(bind, case_id: int, seq: int, sealed: tuple[str, bytes, bytes]) -> None:
    key_id, nonce, ciphertext = sealed
    bind.execute(SEALED.insert().values(case_id=case_id, seq=seq, key_id=key_id, nonce=nonce,
                                        ciphertext=ciphertext))


class _history_writable:
    """The append-only guard of case_transition off while its rows' data is rewritten (hashes unchanged)."""

    def __init__(self, bind):
        self.pg = bind.dialect.name == "postgresql"

    def __enter__(self):
        if self.pg:
            op.execute("ALTER TABLE case_transition DISABLE TRIGGER case_transition_append_only")
        else:
            op.execute("DROP TRIGGER IF EXISTS case_transition_no_update")

    def __exit__(self, *exc):
        if self.pg:
            op.execute("ALTER TABLE case_transition ENABLE ALWAYS TRIGGER case_transition_append_only")
        else:
            op.execute("""CREATE TRIGGER case_transition_no_update BEFORE UPDATE ON case_transition
                          BEGIN SELECT RAISE(ABORT, 'case_transition is append-only (UPDATE)'); END""")
        return False


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(SEALED).order_by(SEALED.c.case_id, SEALED.c.seq)).all()
    if rows:
        from store.sealed import merge, unseal

        with _history_writable(bind):
            for r in rows:
                health = unseal(r.key_id, r.nonce, r.ciphertext, r.case_id, r.seq)
                table, where = ((CASES, CASES.c.id == r.case_id) if r.seq == 0 else
                                (STEPS, sa.and_(STEPS.c.case_id == r.case_id, STEPS.c.seq == r.seq)))
                data = bind.execute(sa.select(table.c.data).where(where)).scalar_one()
                bind.execute(sa.update(table).where(where).values(data=merge(data, health)))
    op.drop_table("health_data")
