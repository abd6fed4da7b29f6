"""One digest per person per day: reminder items gathered by the sweeps, queued in the outbox once.

The reminder log is the idempotency record: an item whose (what, stage, whom) key is already logged is
never queued again, so rerunning a sweep on the same day queues nothing twice. The log and outbox writes are
in store/digest.py.
"""
from __future__ import annotations

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


def _queue(conn: Connection, recipient: Recipient, day: date, items: list[dict], now: datetime) -> None:
    store.queue(conn, digest_key(recipient.key, day), recipient.email, recipient.as_payload(), day, items, now)
