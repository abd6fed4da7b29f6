"""One digest per person per day: reminder items gathered by the sweeps, queued in the outbox once.

The reminder log is the idempotency record: an item whose (what, stage, whom) key is already logged is
never queued again, so rerunning a sweep on the same day queues nothing twice. The log and outbox writes are
in store/digest.py.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.engine import Connection

from services.directory import Recipient
from store import digest as store


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


def flush(conn: Connection, book: DigestBook) -> int:
    """Write the log rows and one digest outbox row per recipient (merged into today's if still pending).

    Returns how many items were queued. Runs inside the caller's transaction.
    """
    if not book.entries:
        return 0
    fresh_keys = store.log_fresh(conn, [e.log for e in book.entries.values()])
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


class DigestRun:
    """Many books' items gathered into one digest per recipient, queued once (`queue`): the sweep logs each
    batch's reminders as it goes and appends to a recipient's digest once per transaction, not once per batch
    (appending to a growing jsonb payload per batch cost a rewrite of the whole digest each time: quadratic in
    the batches). Log rows and digest items must be written in the same transaction: `log` then `queue` on one
    connection. Items are kept as JSON texts (the digest payload is joined from them)."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.items: dict[str, tuple[Recipient, list[str]]] = {}
        self.count = 0

    def log(self, conn: Connection, book: DigestBook) -> int:
        """Write the book's log rows; keep the items of those not logged yet. Returns how many."""
        if not book.entries:
            return 0
        fresh_keys = store.log_fresh(conn, [e.log for e in book.entries.values()])
        n = 0
        for key, e in book.entries.items():
            if key in fresh_keys:
                self.items.setdefault(e.recipient.key, (e.recipient, []))[1].append(json.dumps(e.built()))
                n += 1
        self.count += n
        return n

    def queue(self, conn: Connection) -> int:
        """Queue the gathered items (one digest per recipient) and start over. Returns how many items."""
        digests = []
        while self.items:  # each recipient's item texts dropped once joined: memory holds one copy
            who, items = self.items.popitem()[1]
            digests.append((digest_key(who.key, self.day), who.email, who.as_payload(),
                            store.payload_json(who.as_payload(), self.day, items)))
        digests.reverse()  # popitem takes the last: back to the order recipients first appeared
        store.queue_many(conn, self.day, digests, datetime.now(timezone.utc))
        n, self.count = self.count, 0
        return n


def _queue(conn: Connection, recipient: Recipient, day: date, items: list[dict], now: datetime) -> None:
    store.queue(conn, digest_key(recipient.key, day), recipient.email, recipient.as_payload(), day, items, now)
