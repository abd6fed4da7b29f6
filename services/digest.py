"""One digest per person per day: reminder items gathered by the sweeps, queued in the outbox once.

The reminder log is the idempotency record: an item whose (what, stage, whom) key is already logged is
never queued again, so rerunning a sweep on the same day queues nothing twice.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.directory import Recipient
from store.tables import outbox_t, reminder_log_t


@dataclass(frozen=True)
class Entry:
    log: dict[str, Any]  # the reminder_log row
    recipient: Recipient
    item: dict[str, Any]  # the digest item


@dataclass
class DigestBook:
    day: date
    entries: dict[str, Entry] = field(default_factory=dict)  # by log key: each (what, stage, whom) once

    def add(self, recipient: Recipient, log_key: str, item: dict[str, Any], *, stage: str,
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


def flush(conn: Connection, book: DigestBook) -> int:
    """Write the log rows and one digest outbox row per recipient (merged into today's if still pending).

    Returns how many items were queued. Runs inside the caller's transaction.
    """
    done = already_logged(conn, list(book.entries))
    fresh = [e for key, e in book.entries.items() if key not in done]
    if not fresh:
        return 0
    conn.execute(reminder_log_t.insert(), [e.log for e in fresh])
    by_recipient: dict[str, list[Entry]] = defaultdict(list)
    for e in fresh:
        by_recipient[e.recipient.key].append(e)
    now = datetime.now(timezone.utc)
    for entries in by_recipient.values():
        _queue(conn, entries[0].recipient, book.day, [e.item for e in entries], now)
    return len(fresh)


def _queue(conn: Connection, recipient: Recipient, day: date, items: list[dict], now: datetime) -> None:
    key = digest_key(recipient.key, day)
    existing = conn.execute(
        sa.select(outbox_t.c.id, outbox_t.c.status, outbox_t.c.payload, outbox_t.c.idempotency_key)
        .where(outbox_t.c.idempotency_key.like(f"{key}%")).order_by(outbox_t.c.id.desc()).limit(1)
    ).first()
    if existing is not None and existing.status == "pending":
        payload = dict(existing.payload)
        payload["voci"] = list(payload.get("voci", [])) + items
        conn.execute(outbox_t.update().where(outbox_t.c.id == existing.id).values(payload=payload))
        return
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
