"""The append-only log of health-data reads (who read which health fields of which case, when, where)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.audit import append_health_reads
from store.auth_tables import health_access_log_t
from store.uow import Bind, reading

log_t = health_access_log_t


def append(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows {case_id, username, role, read_at (UTC), fields, context}, each chained to the previous one
    (store/audit.py); the rows cannot be changed later."""
    append_health_reads(conn, list(rows))


def reads(bind: Bind, *, case_id: int | None = None, username: str | None = None) -> list[Any]:
    """The log's rows in order, of one case and/or one user (`read_at` is naive UTC on SQLite)."""
    q = sa.select(log_t).order_by(log_t.c.id)
    if case_id is not None:
        q = q.where(log_t.c.case_id == case_id)
    if username is not None:
        q = q.where(log_t.c.username == username)
    with reading(bind) as conn:
        return conn.execute(q).all()
