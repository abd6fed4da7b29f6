"""The audit chains in the database: appending to the health-read log's chain, reading chains to verify them.

A case's transitions are chained by the transition hot path (store/cases.py): the case row holds the head
(`case_file.audit_hash`) and the version-guarded UPDATE that moves the case also moves the head. The health-read
log is one chain whose head is the `audit_head` row "health_access_log", locked (a no-op UPDATE) before it is
read, so concurrent appends queue instead of forking the chain.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.audit import GENESIS, HEALTH_LOG_FIELDS, STEP_FIELDS, TRANSITION_FIELDS, row_hash
from store.auth_tables import audit_head_t, health_access_log_t
from store.tables import AppUser, case_t, outbox_t, transition_t

HEALTH_CHAIN = "health_access_log"


def ensure_heads(conn: Connection) -> None:
    """The log-wide chains' head rows (a new database, or one emptied by hand)."""
    if conn.execute(sa.select(audit_head_t.c.chain).where(audit_head_t.c.chain == HEALTH_CHAIN)).first() is None:
        conn.execute(audit_head_t.insert(), {"chain": HEALTH_CHAIN, "length": 0, "hash": GENESIS})


def append_health_reads(conn: Connection, rows: list[Mapping[str, Any]]) -> None:
    """Insert health-read log rows, each chained to the previous one, in the caller's transaction."""
    if not rows:
        return
    h = audit_head_t
    locked = conn.execute(sa.update(h).where(h.c.chain == HEALTH_CHAIN).values(length=h.c.length)).rowcount
    if not locked:
        ensure_heads(conn)
    head = conn.execute(sa.select(h.c.length, h.c.hash).where(h.c.chain == HEALTH_CHAIN)).one()
    previous, chained = head.hash, []
    for row in rows:
        previous = row_hash(previous, row, HEALTH_LOG_FIELDS)
        chained.append({**row, "hash": previous})
    conn.execute(health_access_log_t.insert(), chained)
    conn.execute(sa.update(h).where(h.c.chain == HEALTH_CHAIN).values(length=head.length + len(rows), hash=previous))


def planning_office_emails(conn: Connection) -> list[str]:
    u = AppUser.__table__
    return list(conn.execute(sa.select(u.c.email).where(u.c.role == "planning_office", u.c.active.is_(True),
                                                        u.c.email.is_not(None)).order_by(u.c.email)).scalars())


def queue_once(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Outbox rows whose idempotency key is not there yet (a second checkpoint the same day sends nothing)."""
    if not rows:
        return
    keys = [r["idempotency_key"] for r in rows]
    present = set(conn.execute(sa.select(outbox_t.c.idempotency_key)
                               .where(outbox_t.c.idempotency_key.in_(keys))).scalars())
    fresh = [r for r in rows if r["idempotency_key"] not in present]
    if fresh:
        conn.execute(outbox_t.insert(), fresh)


# ----------------------------------------------------------------------------- reading for verification


def chain_heads(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every chain's (number of rows, hash stored on its last row), set-based: what a checkpoint anchors."""
    t, h = transition_t, health_access_log_t
    last = (sa.select(t.c.case_id, sa.func.count().label("n"), sa.func.max(t.c.seq).label("seq"))
            .group_by(t.c.case_id).subquery())
    rows = conn.execute(sa.select(last.c.case_id, last.c.n, t.c.hash)
                        .join(t, sa.and_(t.c.case_id == last.c.case_id, t.c.seq == last.c.seq)))
    found = {f"caso:{r.case_id}": (r.n, r.hash) for r in rows}
    n, top = conn.execute(sa.select(sa.func.count(), sa.func.max(h.c.id))).one()
    log_head = conn.execute(sa.select(h.c.hash).where(h.c.id == top)).scalar() if n else GENESIS
    found["registro_sanitario"] = (n, log_head)
    from store.diary import last_hashes

    found |= last_hashes(conn)
    return found


def cases(conn: Connection) -> Iterator[Any]:
    c = case_t.c
    yield from conn.execute(sa.select(c.id, c.state, c.version, c.audit_hash).order_by(c.id))


def transitions_by_case(conn: Connection, batch: int = 5000) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Every case's transitions in seq order, case by case (streamed: memory stays flat but for the sealed
    health parts' ciphertexts), each row's data with its sealed health part decrypted back in (the hash covers
    the step's data as recorded)."""
    from cryptography.exceptions import InvalidTag

    from store.health_store import open_row, sealed_steps
    from store.sealed import HealthKeyError, keyring, merge

    ring = keyring()
    sealed = {(case_id, seq): r for case_id, seq, r in sealed_steps(conn, batch)}
    t = transition_t
    # a database still below 0012_handover (a downgrade being checked) has no on_behalf_of: hashed only when set
    present = {c["name"] for c in sa.inspect(conn).get_columns("case_transition")}
    names = STEP_FIELDS if "on_behalf_of" in present else TRANSITION_FIELDS
    columns = [t.c.id, t.c.hash, *(t.c[name] for name in names)]

    def opened(row: dict[str, Any]) -> dict[str, Any]:
        part = sealed.get((row["case_id"], row["seq"]))
        if part is not None:
            try:
                health = open_row(part, ring)
            except (InvalidTag, HealthKeyError):  # altered, moved or under a key no longer held: a break
                health = {"sigillo_sanitario": "illeggibile"}
            row["data"] = merge(row["data"], health)
        return row

    result = conn.execution_options(yield_per=batch).execute(sa.select(*columns).order_by(t.c.case_id, t.c.seq))
    for case_id, group in groupby(result.mappings(), key=itemgetter("case_id")):
        yield case_id, [opened(dict(row)) for row in group]


def health_log(conn: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    h = health_access_log_t
    columns = [h.c.id, h.c.hash, *(h.c[name] for name in HEALTH_LOG_FIELDS)]
    for row in conn.execution_options(yield_per=batch).execute(sa.select(*columns).order_by(h.c.id)).mappings():
        yield dict(row)


def head(conn: Connection, chain: str = HEALTH_CHAIN) -> Any:
    return conn.execute(sa.select(audit_head_t.c.length, audit_head_t.c.hash)
                        .where(audit_head_t.c.chain == chain)).first()
