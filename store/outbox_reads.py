"""The outbox as the administrators' page reads it: counts by status and one page of the rows matching a filter,
newest first, paged by id (keyset: the page after or before a row's id, never OFFSET)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.tables import outbox_t
from store.uow import Bind, reading


def outbox_page(bind: Bind, *, status: str | None = None, recipient: str | None = None,
                created: tuple[datetime, datetime] | None = None, limit: int, after: int | None = None,
                before: int | None = None) -> tuple[dict[str, int], list[Any], int]:
    """({status: count} over the whole outbox, up to `limit` rows matching, newest first, how many match in all):
    `recipient` is a case-insensitive substring, `created` a [from, to) interval; `after` = the rows older than
    that id (the next page), else `before` = the rows just newer than that id (the previous page), still newest
    first. Ask for one row more than the page to learn whether there is a page beyond it."""
    o = outbox_t.c
    where = []
    if status:
        where.append(o.status == status)
    if recipient:
        where.append(sa.func.lower(o.recipient).contains(recipient.lower(), autoescape=True))
    if created:
        where += [o.created_at >= created[0], o.created_at < created[1]]
    backwards = after is None and before is not None
    key = [o.id < after] if after is not None else [o.id > before] if backwards else []
    cols = (o.id, o.created_at, o.recipient, o.template, o.event, o.status, o.attempts, o.next_attempt_at,
            o.sent_at, o.last_error, o.payload)
    with reading(bind) as conn:
        counted = dict(conn.execute(sa.select(o.status, sa.func.count()).group_by(o.status)).all())
        rows = conn.execute(sa.select(*cols).where(*where, *key).order_by(o.id.asc() if backwards else o.id.desc())
                            .limit(limit)).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(outbox_t).where(*where)).scalar_one() \
            if where else sum(counted.values())
    return counted, rows[::-1] if backwards else rows, total
