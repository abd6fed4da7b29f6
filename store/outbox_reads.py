"""The outbox as the administrators' page reads it: counts by status and the latest rows matching a filter."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.tables import outbox_t
from store.uow import Bind, reading


def outbox_page(bind: Bind, *, status: str | None = None, recipient: str | None = None,
                created: tuple[datetime, datetime] | None = None, limit: int) -> tuple[dict[str, int], list[Any], int]:
    """({status: count} over the whole outbox, the newest `limit` rows matching, how many match): `recipient` is
    a case-insensitive substring, `created` a [from, to) interval."""
    o = outbox_t.c
    where = []
    if status:
        where.append(o.status == status)
    if recipient:
        where.append(sa.func.lower(o.recipient).contains(recipient.lower(), autoescape=True))
    if created:
        where += [o.created_at >= created[0], o.created_at < created[1]]
    cols = (o.id, o.created_at, o.recipient, o.template, o.event, o.status, o.attempts, o.next_attempt_at,
            o.sent_at, o.last_error, o.payload)
    with reading(bind) as conn:
        counted = dict(conn.execute(sa.select(o.status, sa.func.count()).group_by(o.status)).all())
        rows = conn.execute(sa.select(*cols).where(*where).order_by(o.id.desc()).limit(limit)).all()
        total = len(rows) if len(rows) < limit else conn.execute(
            sa.select(sa.func.count()).select_from(outbox_t).where(*where)).scalar_one()
    return counted, rows, total
