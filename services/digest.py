"""One digest per person per day: reminder items gathered by the sweeps, queued in the outbox once.

The reminder log is the idempotency record: an item whose (what, stage, whom) key is already logged is
never queued again, so rerunning a sweep on the same day queues nothing twice.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from services.directory import Recipient
from store.tables import outbox_t, reminder_log_t


@dataclass(frozen=True)
class Entry:
    log: dict[str, Any]  # the reminder_log row
    recipient: Recipient
    item: dict[str, Any] | Callable[[], dict[str, Any]]  # the digest item, or how to build it (only if queued)

    def built(self) -> dict[str, Any]:
        return self.item() if callable(self.item) else self.item


@dataclass
class DigestBook:
    day: date
    entries: dict[str, Entry] = field(default_factory=dict)  # by log key: each (what, stage, whom) once

    def add(self, recipient: Recipient, log_key: str, item: dict[str, Any] | Callable[[], dict[str, Any]], *,
            stage: str,
            deadline_id: int | None = None, obligation: tuple[str, str, str] | None = None) -> None:
        code, period, scope = obligation or (None, None, None)
        log = {
            "key": log_key, "deadline_id": deadline_id, "obligation_code": code, "period": period,
            "scope_key": scope, "stage": stage, "recipient": recipient.key, "queued_on": self.day,
            "digest_key": digest_key(recipient.key, self.day),
        }
        self.entries.setdefault(log_key, Entry(log, recipient, item))

    def __len__(self) -> int:
        return len(self.entries)


def digest_key(recipient_key: str, day: date) -> str:
    return f"digest:{recipient_key}:{day.isoformat()}"


def already_logged(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        found.update(conn.execute(sa.select(reminder_log_t.c.key).where(reminder_log_t.c.key.in_(chunk))).scalars())
    return found


_LOG_UNNEST = sa.text(
    "INSERT INTO reminder_log (key, deadline_id, obligation_code, period, scope_key, stage, recipient, queued_on, "
    "digest_key) SELECT * FROM unnest(CAST(:key AS varchar[]), CAST(:deadline_id AS integer[]), "
    "CAST(:obligation_code AS varchar[]), CAST(:period AS varchar[]), CAST(:scope_key AS varchar[]), "
    "CAST(:stage AS varchar[]), CAST(:recipient AS varchar[]), CAST(:queued_on AS date[]), "
    "CAST(:digest_key AS varchar[])) ON CONFLICT (key) DO NOTHING RETURNING key")
_LOG_COLUMNS = ("key", "deadline_id", "obligation_code", "period", "scope_key", "stage", "recipient", "queued_on",
                "digest_key")


def log_fresh(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Write the log rows not logged yet and return their keys: one statement, no pre-query (the unique
    key is the idempotency check; a concurrent sweep's rows are skipped, not an error).

    PostgreSQL: one INSERT ... SELECT FROM unnest(arrays), a short statement psycopg parses once (the
    multi-row VALUES of SQLAlchemy's insertmanyvalues is longer than psycopg's query cache takes and
    measured slower than the pre-query it replaces).
    """
    name = conn.dialect.name
    if name == "postgresql":
        return set(conn.execute(_LOG_UNNEST, {c: [r[c] for r in rows] for c in _LOG_COLUMNS}).scalars().all())
    if name == "sqlite":
        stmt = sqlite_insert(reminder_log_t).on_conflict_do_nothing(index_elements=["key"]).returning(
            reminder_log_t.c.key)
        return set(conn.execute(stmt, rows).scalars().all())
    done = already_logged(conn, [r["key"] for r in rows])
    fresh = [r for r in rows if r["key"] not in done]
    if fresh:
        conn.execute(reminder_log_t.insert(), fresh)
    return {r["key"] for r in fresh}


def flush(conn: Connection, book: DigestBook) -> int:
    """Write the log rows and one digest outbox row per recipient (merged into today's if still pending).

    Returns how many items were queued. Runs inside the caller's transaction.
    """
    if not book.entries:
        return 0
    fresh_keys = log_fresh(conn, [e.log for e in book.entries.values()])
    fresh = [e for key, e in book.entries.items() if key in fresh_keys]
    if not fresh:
        return 0
    by_recipient: dict[str, list[Entry]] = defaultdict(list)
    for e in fresh:
        by_recipient[e.recipient.key].append(e)
    now = datetime.now(timezone.utc)
    for entries in by_recipient.values():
        _queue(conn, entries[0].recipient, book.day, [e.built() for e in entries], now)
    return len(fresh)


_DIGEST_UPSERT = sa.text(
    "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, status, "
    "attempts, next_attempt_at) VALUES (:key, 'digest', NULL, :email, 'digest', CAST(:payload AS jsonb), :now, "
    "'pending', 0, :now) ON CONFLICT (idempotency_key) DO UPDATE SET payload = jsonb_set(outbox.payload, '{voci}', "
    "(outbox.payload -> 'voci') || (excluded.payload -> 'voci')) WHERE outbox.status = 'pending' RETURNING id")


def _queue(conn: Connection, recipient: Recipient, day: date, items: list[dict], now: datetime) -> None:
    key = digest_key(recipient.key, day)
    if conn.dialect.name == "postgresql":
        # today's digest by its exact key (unique index), items appended server-side; only when today's
        # digest already left (no row back) the suffix lookup below runs
        payload = json.dumps({"destinatario": recipient.as_payload(), "giorno": day.isoformat(), "voci": items})
        if conn.execute(_DIGEST_UPSERT, {"key": key, "email": recipient.email, "payload": payload,
                                         "now": now}).first() is not None:
            return
    existing = conn.execute(
        sa.select(outbox_t.c.id, outbox_t.c.status, outbox_t.c.payload, outbox_t.c.idempotency_key)
        .where(outbox_t.c.idempotency_key.like(f"{key}%")).order_by(outbox_t.c.id.desc()).limit(1)
    ).first()
    if existing is not None and existing.status == "pending":
        payload = dict(existing.payload)
        payload["voci"] = list(payload.get("voci", [])) + items
        merged = conn.execute(outbox_t.update().where(outbox_t.c.id == existing.id, outbox_t.c.status == "pending")
                              .values(payload=payload)).rowcount
        if merged:
            return
        # a dispatcher claimed it meanwhile: the new items go in a digest of their own
    if existing is not None:  # today's digest already left: a second one for the new items
        key = f"{key}:{_next_suffix(existing.idempotency_key, key)}"
    conn.execute(outbox_t.insert(), {
        "idempotency_key": key, "event": "digest", "case_id": None, "recipient": recipient.email,
        "template": "digest", "created_at": now, "status": "pending", "attempts": 0, "next_attempt_at": now,
        "payload": {"destinatario": recipient.as_payload(), "giorno": day.isoformat(), "voci": items},
    })


def _next_suffix(last_key: str, base: str) -> int:
    rest = last_key[len(base):].lstrip(":")
    return int(rest) + 1 if rest.isdigit() else 2
