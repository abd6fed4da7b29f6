"""The case diary in the database: appending an entry to its case's chain, reading a case's entries, and every
case's entries for `legami audit verify`.

Each case's diary is one hash chain in `seq` order (domain.audit.DIARY_FIELDS) whose head is the `audit_head`
row "diario:<case id>": it is locked (a no-op UPDATE) before the next number is taken, so concurrent entries on
one case queue instead of forking the chain (the first entry of a case inserts the head; two first entries at
once collide on its key and one is refused, never both written). A health entry's text and participants are
sealed in `health_data` under seq = -<entry number> (store/sealed.py binds the ciphertext to that place, so it
cannot pass for a step's); the row keeps neither.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.audit import DIARY_FIELDS, GENESIS, row_hash
from domain.fields import FieldClass
from store.auth_tables import audit_head_t
from store.sealed import Keyring, keyring, seal, unseal
from store.tables import diary_entry_t, health_data_t

d, h = diary_entry_t, health_data_t
SEALED_KEYS = ("text", "participants")


def chain_name(case_id: int) -> str:
    return f"diario:{case_id}"


def append(conn: Connection, case_id: int, entry: dict[str, Any]) -> int:
    """Insert `entry` {kind, occurred_at, participants, text, data_class, author, author_role, recorded_at,
    supersedes} as the case's next entry, chained and (health class) sealed, in the caller's transaction;
    returns its number."""
    name = chain_name(case_id)
    head_t = audit_head_t
    locked = conn.execute(sa.update(head_t).where(head_t.c.chain == name).values(length=head_t.c.length)).rowcount
    if not locked:
        conn.execute(head_t.insert(), {"chain": name, "length": 0, "hash": GENESIS})
    head = conn.execute(sa.select(head_t.c.length, head_t.c.hash).where(head_t.c.chain == name)).one()
    seq = head.length + 1
    row = {**entry, "case_id": case_id, "seq": seq, "participants": list(entry["participants"])}
    digest = row_hash(head.hash, row, DIARY_FIELDS)
    stored = {**row, "hash": digest, "sealed": False}
    if entry["data_class"] == FieldClass.HEALTH.value:
        key_id, nonce, ciphertext = seal({k: row[k] for k in SEALED_KEYS}, case_id, -seq)
        conn.execute(h.insert(), {"case_id": case_id, "seq": -seq, "key_id": key_id, "nonce": nonce,
                                  "ciphertext": ciphertext})
        stored |= {"text": None, "participants": [], "sealed": True}
    conn.execute(d.insert(), stored)
    conn.execute(sa.update(head_t).where(head_t.c.chain == name).values(length=seq, hash=digest))
    return seq


def supersession(conn: Connection, case_id: int, seq: int) -> tuple[str, int | None] | None:
    """(data class, the number of the entry that already corrects it) of entry `seq` of a case; None if absent."""
    row = conn.execute(sa.select(d.c.data_class).where(d.c.case_id == case_id, d.c.seq == seq)).first()
    if row is None:
        return None
    later = conn.execute(sa.select(sa.func.min(d.c.seq)).where(d.c.case_id == case_id, d.c.supersedes == seq))
    return row.data_class, later.scalar()


def entries(conn: Connection, case_id: int, classes: frozenset[str]) -> list[dict[str, Any]]:
    """The entries of a case of these data classes, in order, health ones opened (only those asked for are
    decrypted), each with `superseded_by` (the number of the entry correcting it, or None)."""
    rows = [dict(r) for r in conn.execute(sa.select(d).where(d.c.case_id == case_id, d.c.data_class.in_(sorted(classes)))
                                          .order_by(d.c.seq)).mappings()]
    later = dict(conn.execute(sa.select(d.c.supersedes, sa.func.min(d.c.seq)).where(
        d.c.case_id == case_id, d.c.supersedes.is_not(None)).group_by(d.c.supersedes)).all())
    sealed = [r["seq"] for r in rows if r["sealed"]]
    parts = {}
    if sealed:
        ring = keyring()
        parts = {-r.seq: unseal(r.key_id, r.nonce, r.ciphertext, case_id, r.seq, ring) for r in conn.execute(
            sa.select(h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext)
            .where(h.c.case_id == case_id, h.c.seq.in_([-s for s in sealed])))}
    for r in rows:
        r.update(parts.get(r["seq"], {}))
        r["superseded_by"] = later.get(r["seq"])
    return rows


def written_by_colleagues(conn: Connection, start: datetime, end: datetime, where: Any = True) -> list[Any]:
    """Entries recorded in [start, end) on cases with an owner, by someone else than the owner (the digest tells
    the owner): case, number, kind, author and their name, owner, type, comune; never the text."""
    from store.tables import AppUser, case_t

    c, u = case_t.c, AppUser.__table__
    q = (sa.select(d.c.case_id, d.c.seq, d.c.kind, d.c.author, sa.func.coalesce(u.c.full_name, d.c.author)
                   .label("author_name"), d.c.recorded_at, c.owner, c.case_type, c.comune_istat)
         .join(case_t, c.id == d.c.case_id).outerjoin(u, u.c.username == d.c.author)
         .where(d.c.recorded_at >= start, d.c.recorded_at < end, c.owner.is_not(None), d.c.author != c.owner, where)
         .order_by(d.c.case_id, d.c.seq))
    return conn.execute(q).all()


# ----------------------------------------------------------------------------- reading for verification


def present(conn: Connection) -> bool:
    """Whether the database has the diary (a database left at a revision before 0011 does not)."""
    return sa.inspect(conn).has_table(d.name)


def by_case(conn: Connection, ring: Keyring | None = None, batch: int = 5000) -> Iterator[tuple[int, list[dict]]]:
    """Every case's entries in seq order, case by case, sealed parts opened back in (the hash covers the entry
    as written); an unreadable sealed part stands as such and breaks the chain there."""
    from cryptography.exceptions import InvalidTag

    from store.sealed import HealthKeyError

    ring = ring or keyring()
    sealed = {(r.case_id, -r.seq): r for r in conn.execute(
        sa.select(h.c.case_id, h.c.seq, h.c.key_id, h.c.nonce, h.c.ciphertext).where(h.c.seq < 0))}
    columns = [d.c.hash, d.c.sealed, *(d.c[n] for n in DIARY_FIELDS)]

    def opened(row: dict[str, Any]) -> dict[str, Any]:
        part = sealed.get((row["case_id"], row["seq"]))
        if row["sealed"]:
            try:
                row.update(unseal(part.key_id, part.nonce, part.ciphertext, part.case_id, part.seq, ring)
                           if part is not None else {"text": "sigillo assente"})
            except (InvalidTag, HealthKeyError):
                row["text"] = "sigillo illeggibile"
        return row

    result = conn.execution_options(yield_per=batch).execute(sa.select(*columns).order_by(d.c.case_id, d.c.seq))
    for case_id, group in groupby(result.mappings(), key=itemgetter("case_id")):
        yield case_id, [opened(dict(row)) for row in group]


def heads(conn: Connection) -> dict[int, tuple[int, str]]:
    """{case_id: (length, hash)} of every diary's head row."""
    t = audit_head_t
    found = {}
    for chain, length, digest in conn.execute(sa.select(t.c.chain, t.c.length, t.c.hash)
                                              .where(t.c.chain.like("diario:%"))):
        found[int(chain.split(":", 1)[1])] = (length, digest)
    return found


def last_hashes(conn: Connection) -> dict[str, tuple[int, str]]:
    """Each diary's (number of entries, hash on its last entry), keyed as a checkpoint names chains."""
    if not present(conn):
        return {}
    last = (sa.select(d.c.case_id, sa.func.count().label("n"), sa.func.max(d.c.seq).label("seq"))
            .group_by(d.c.case_id).subquery())
    rows = conn.execute(sa.select(last.c.case_id, last.c.n, d.c.hash)
                        .join(d, sa.and_(d.c.case_id == last.c.case_id, d.c.seq == last.c.seq)))
    return {f"diario:{r.case_id}": (r.n, r.hash) for r in rows}
