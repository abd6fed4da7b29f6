"""Nested health parts sealed: the health-class parts inside keys that are not health data themselves (the FNA
call's ranking snapshots: `posizioni[].dettaglio.adl`, `.iadl`, `.gravita`) move, encrypted, to health_data
beside the top-level ones that 0009 moved (store/sealed.py `split`)

Revision ID: 0010_nested_health_sealed
Revises: 0009_health_sealed
Create Date: 2026-12-09

Upgrade: every row whose data still holds a nested health part loses it to its sealed part (one per case and
step: created, or re-encrypted with the nested part added) under the current key. The audit rows' hashes do not
change (`legami audit verify` merges the sealed part back to check a row).
Downgrade: the nested parts go back into their rows (the keys that sealed them must be in LEGAMI_HEALTH_KEYS);
a sealed part left with no top-level key is deleted. The top-level parts stay sealed (0009's downgrade puts
them back).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010_nested_health_sealed"
down_revision: Union[str, None] = "0009_health_sealed"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CASES = sa.table("case_file", sa.column("id"), sa.column("case_type"), sa.column("data", sa.JSON))
STEPS = sa.table("case_transition", sa.column("id"), sa.column("case_id"), sa.column("seq"),
                 sa.column("data", sa.JSON))
SEALED = sa.table("health_data", sa.column("id"), sa.column("case_id"), sa.column("seq"), sa.column("key_id"),
                  sa.column("nonce", sa.LargeBinary), sa.column("ciphertext", sa.LargeBinary))


def _rows(bind, types: dict[int, str]):
    """(table, where, case_id, seq, case_type, data) of every case row (seq 0) and step row with data."""
    for row in bind.execute(sa.select(CASES.c.id, CASES.c.case_type, CASES.c.data)).all():
        types[row.id] = row.case_type
        yield CASES, CASES.c.id == row.id, row.id, 0, row.case_type, row.data
    for row in bind.execute(sa.select(STEPS.c.id, STEPS.c.case_id, STEPS.c.seq, STEPS.c.data)).all():
        yield STEPS, STEPS.c.id == row.id, row.case_id, row.seq, types[row.case_id], row.data


def _sealed(bind, case_id: int, seq: int):
    return bind.execute(sa.select(SEALED).where(SEALED.c.case_id == case_id, SEALED.c.seq == seq)).first()


def _store(bind, case_id: int, seq: int, existing, part: dict) -> None:
    from store.sealed import seal

    if not part:
        bind.execute(SEALED.delete().where(SEALED.c.id == existing.id))
        return
    key_id, nonce, ciphertext = seal(part, case_id, seq)
    if existing is None:
        bind.execute(SEALED.insert().values(case_id=case_id, seq=seq, key_id=key_id, nonce=nonce,
                                            ciphertext=ciphertext))
    else:
        bind.execute(SEALED.update().where(SEALED.c.id == existing.id)
                     .values(key_id=key_id, nonce=nonce, ciphertext=ciphertext))


def upgrade() -> None:
    from importlib import import_module

    from store.sealed import split, unseal

    history_writable = import_module("store.migrations.versions.0009_health_sealed")._history_writable
    bind = op.get_bind()
    types: dict[int, str] = {}
    with history_writable(bind):
        for table, where, case_id, seq, case_type, data in list(_rows(bind, types)):
            plain, nested = split(case_type, data)
            if not nested:
                continue
            existing = _sealed(bind, case_id, seq)
            before = {} if existing is None else unseal(existing.key_id, existing.nonce, existing.ciphertext,
                                                        case_id, seq)
            bind.execute(sa.update(table).where(where).values(data=plain))
            _store(bind, case_id, seq, existing, {**before, **nested})


def downgrade() -> None:
    from importlib import import_module

    from store.sealed import merge, unseal

    history_writable = import_module("store.migrations.versions.0009_health_sealed")._history_writable
    bind = op.get_bind()
    rows = bind.execute(sa.select(SEALED).order_by(SEALED.c.case_id, SEALED.c.seq)).all()
    with history_writable(bind):
        for r in rows:
            table, where = ((CASES, CASES.c.id == r.case_id) if r.seq == 0 else
                            (STEPS, sa.and_(STEPS.c.case_id == r.case_id, STEPS.c.seq == r.seq)))
            data = bind.execute(sa.select(table.c.data).where(where)).scalar_one() or {}
            part = unseal(r.key_id, r.nonce, r.ciphertext, r.case_id, r.seq)
            nested = {k: v for k, v in part.items() if k in data}  # a key also in the row: its nested parts
            if nested:
                bind.execute(sa.update(table).where(where).values(data=merge(data, nested)))
                _store(bind, r.case_id, r.seq, r, {k: v for k, v in part.items() if k not in data})
