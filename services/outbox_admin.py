"""The outbox as administrators see it (/admin/posta): rows with filters and counts per status, in pages (keyset
on the id, newest first: page 40 costs what page 1 does) with the exact total. Read-only.

Nothing is sent from here: e-mail leaves only through the dispatch flow (flows/, notifications/dispatch.py),
never inside a web request. Only administrators (Principal.is_admin) may look; the message bodies are not
shown (a digest lists cases and initials the administrator role does not grant by itself): only who, what
kind of message, how many items, and its delivery state.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal
from domain.errors import InvalidData
from domain.italian import ROME, parse_date
from domain.validation import FieldError
from store import outbox_reads

STATUS_LABELS = {"pending": "In attesa", "sending": "In invio", "sent": "Inviato", "failed": "Non recapitabile"}
REFUSED = "la posta in uscita è consultabile solo dagli amministratori"
LIMIT = 50  # rows on a page
MAX_LIMIT = 500


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    recipient: str
    template: str
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    items: int | None  # items of a digest

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass
class OutboxView:
    counts: list[tuple[str, str, int]]  # (status, label, count) over the whole outbox
    rows: list[OutboxRow]
    total: int  # rows matching the filters
    status: str | None
    recipient: str | None
    day: date | None
    limit: int
    next_key: int | None = None  # the id the next (older) page starts after; None on the last page
    previous_key: int | None = None  # the id the previous (newer) page ends before; None on the first page

    @property
    def all_count(self) -> int:
        return sum(n for _, _, n in self.counts)


def outbox_refusal(principal: Principal) -> str | None:
    """None if the user may look at the outbox: the page and its menu entry (web/nav.py)."""
    return None if principal.is_admin else REFUSED


def parse_key(text: str | None) -> int | None:
    """A page key from a link (a message's id), or None if the text is not one: a hand-edited link starts
    from the top instead of failing."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None


def authorize_admin(principal: Principal) -> None:
    reason = outbox_refusal(principal)
    if reason is not None:
        raise AccessDenied(reason)


def parse_day(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise InvalidData([FieldError("giorno", "Giorno", str(exc))]) from None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(ROME)


def outbox_view(engine: Engine, principal: Principal, *, status: str | None = None, recipient: str | None = None,
                day: str | date | None = None, limit: int = LIMIT, after: int | None = None,
                before: int | None = None) -> OutboxView:
    """One page of the outbox matching the filters: `after` a message's id (the older ones), or `before` it (the
    newer ones, the previous page); bad filters -> InvalidData naming the field."""
    authorize_admin(principal)
    status = (status or "").strip() or None
    if status is not None and status not in STATUS_LABELS:
        raise InvalidData([FieldError("stato", "Stato", f"stato «{status}» sconosciuto")])
    recipient = (recipient or "").strip() or None
    day = day if isinstance(day, date) else parse_day(day)
    created = None
    if day:
        created = (datetime.combine(day, time(0, 0), ROME).astimezone(UTC),
                   datetime.combine(day + timedelta(days=1), time(0, 0), ROME).astimezone(UTC))
    limit = min(max(limit, 1), MAX_LIMIT)
    backwards = after is None and before is not None
    counted, rows, total = outbox_reads.outbox_page(engine, status=status, recipient=recipient, created=created,
                                                    limit=limit + 1, after=after, before=before)
    more = len(rows) > limit  # one row beyond the page: there is a page beyond it, in the direction asked
    if backwards:
        rows = rows[-limit:]
        if not more:  # the previous page is the first one: show the first page whole
            counted, rows, total = outbox_reads.outbox_page(engine, status=status, recipient=recipient,
                                                            created=created, limit=limit + 1)
            more, backwards, before = len(rows) > limit, False, None
            rows = rows[:limit]
    else:
        rows = rows[:limit]
    following = more if not backwards else True
    preceding = after is not None if not backwards else True
    counts = [(s, label, counted.get(s, 0)) for s, label in STATUS_LABELS.items()]
    counts += [(s, s, n) for s, n in sorted(counted.items()) if s not in STATUS_LABELS]
    return OutboxView(counts, [_row(r) for r in rows], total, status, recipient, day, limit,
                      rows[-1].id if following and rows else None, rows[0].id if preceding and rows else None)


def _row(r: Any) -> OutboxRow:
    payload = r.payload or {}
    items = len(payload.get("voci") or []) if isinstance(payload, dict) and "voci" in payload else None
    return OutboxRow(r.id, _aware(r.created_at), r.recipient, r.template, r.event, r.status, r.attempts,
                     _aware(r.next_attempt_at), _aware(r.sent_at), r.last_error, items)
