"""The outbox as administrators see it (/admin/posta): rows with filters and counts per status. Read-only.

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
LIMIT = 200


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

    @property
    def all_count(self) -> int:
        return sum(n for _, _, n in self.counts)


def outbox_refusal(principal: Principal) -> str | None:
    """None if the user may look at the outbox: the page and its menu entry (web/nav.py)."""
    return None if principal.is_admin else REFUSED


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
                day: str | date | None = None, limit: int = LIMIT) -> OutboxView:
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
    counted, rows, total = outbox_reads.outbox_page(engine, status=status, recipient=recipient, created=created,
                                                    limit=limit)
    counts = [(s, label, counted.get(s, 0)) for s, label in STATUS_LABELS.items()]
    counts += [(s, s, n) for s, n in sorted(counted.items()) if s not in STATUS_LABELS]
    return OutboxView(counts, [_row(r) for r in rows], total, status, recipient, day, limit)


def _row(r: Any) -> OutboxRow:
    payload = r.payload or {}
    items = len(payload.get("voci") or []) if isinstance(payload, dict) and "voci" in payload else None
    return OutboxRow(r.id, _aware(r.created_at), r.recipient, r.template, r.event, r.status, r.attempts,
                     _aware(r.next_attempt_at), _aware(r.sent_at), r.last_error, items)
