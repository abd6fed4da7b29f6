"""Reading and re-keying the sealed health parts (table health_data; the crypto is in store/sealed.py).

The transition hot path writes them (store/cases.py); here: a case's steps' parts for its history, every
step's part for `legami audit verify`, and `reseal_all` for `legami keys rotate`.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.sealed import Keyring, keyring, seal, unseal
from store.sql_in import among
from store.tables import health_data_t
from store.uow import Bind, reading, writing

h = health_data_t


def steps_of_case(conn: Connection, case_id: int) -> dict[int, dict[str, Any]]:
    """{seq: decrypted health part} of a case's audit rows."""
    rows = conn.execute(sa.select(h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext)
                        .where(h.c.case_id == case_id, h.c.seq > 0)).all()
    ring = keyring()
    return {r.seq: unseal(r.key_id, r.nonce, r.ciphertext, case_id, r.seq, ring) for r in rows}


def current_of(conn: Connection, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{case_id: decrypted health part of its current data} (seq 0) of these cases: for computations that need
    health-derived numbers (the FNA ranking's scores), whoever reads their result."""
    if not case_ids:
        return {}
    rows = conn.execute(sa.select(h.c.case_id, h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext)
                        .where(among(h.c.case_id, case_ids), h.c.seq == 0)).all()  # one array: a call's ~300
    ring = keyring()
    return {r.case_id: open_row(r, ring) for r in rows}


def has_sealed(conn: Connection, case_id: int) -> bool:
    return conn.execute(sa.select(h.c.id).where(h.c.case_id == case_id).limit(1)).first() is not None


def sealed_steps(conn: Connection, batch: int = 5000) -> Iterator[tuple[int, int, Any]]:
    """(case_id, seq, row) of every sealed step part, by case and seq (decrypt with `open_row`)."""
    q = (sa.select(h.c.case_id, h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext).where(h.c.seq > 0)
         .order_by(h.c.case_id, h.c.seq))
    for r in conn.execution_options(yield_per=batch).execute(q):
        yield r.case_id, r.seq, r


def open_row(r: Any, ring: Keyring | None = None) -> dict[str, Any]:
    return unseal(r.key_id, r.nonce, r.ciphertext, r.case_id, r.seq, ring)


def key_counts(bind: Bind) -> dict[str, int]:
    """How many sealed parts each key holds."""
    with reading(bind) as conn:
        return dict(conn.execute(sa.select(h.c.key_id, sa.func.count()).group_by(h.c.key_id)).all())


def reseal_all(bind: Bind, ring: Keyring | None = None, batch: int = 500) -> int:
    """Re-encrypt every part not under the current key with it, in batches (each its own transaction, so an
    interrupted rotation resumes where it stopped); the number re-encrypted."""
    ring = ring or keyring()
    done = 0
    while True:
        with writing(bind) as conn:
            rows = conn.execute(sa.select(h.c.id, h.c.case_id, h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext)
                                .where(h.c.key_id != ring.current).order_by(h.c.id).limit(batch)).all()
            for r in rows:
                key_id, nonce, ciphertext = seal(open_row(r, ring), r.case_id, r.seq, ring)
                conn.execute(sa.update(h).where(h.c.id == r.id, h.c.key_id == r.key_id)
                             .values(key_id=key_id, nonce=nonce, ciphertext=ciphertext))
        done += len(rows)
        if len(rows) < batch:
            return done
