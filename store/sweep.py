"""The deadline sweep's reads: the automatic steps due, the open deadlines in keyset batches (one indexed
query per batch, each on a connection of its own) and the reminders already logged for a batch.

services/sweep.py decides which stage is due and whom to remind; nothing here runs per case.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from store.tables import case_t, deadline_t, person_t, reminder_log_t
from store.uow import Bind, reading

_COLUMNS = (
    deadline_t.c.id, deadline_t.c.case_id, deadline_t.c.kind, deadline_t.c.label, deadline_t.c.due,
    deadline_t.c.source, case_t.c.case_type, case_t.c.state, case_t.c.owner, case_t.c.comune_istat,
    case_t.c.provider_codice, person_t.c.cognome, person_t.c.nome,
)
_FROM = deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id).outerjoin(
    person_t, person_t.c.id == case_t.c.person_id)


def automatic_due(bind: Bind, kinds: Iterable[str], as_of: date, where: Any = True) -> list[Any]:
    """(case_id, kind, due, case_type, state, state_since) of the open deadlines of `kinds` due by `as_of`,
    by due date; `where`: a further condition over case_file (one Ambito's cases, store/ambito_filter.py)."""
    with reading(bind) as conn:
        return conn.execute(
            sa.select(deadline_t.c.case_id, deadline_t.c.kind, deadline_t.c.due, case_t.c.case_type,
                      case_t.c.state, case_t.c.state_since)
            .join(case_t, case_t.c.id == deadline_t.c.case_id)
            .where(deadline_t.c.status == "open", deadline_t.c.due <= as_of,
                   deadline_t.c.kind.in_(sorted(kinds)), where)
            .order_by(deadline_t.c.due, deadline_t.c.id)
        ).all()


def open_due_between(bind: Bind, first: date, last: date, batch_size: int,
                     where: Any = True) -> Iterator[list[Any]]:
    """Batches of the open deadlines due from `first` to `last` (with their case and person), by id."""
    where = sa.and_(deadline_t.c.status == "open", deadline_t.c.due >= first, deadline_t.c.due <= last, where)
    return _batches(bind, where, batch_size)


def overdue_not_escalated(bind: Bind, as_of: date, batch_size: int, where: Any = True) -> Iterator[list[Any]]:
    """Batches of the open deadlines due before `as_of` with no "scaduta" reminder logged yet, by id."""
    not_escalated = ~sa.exists().where(reminder_log_t.c.deadline_id == deadline_t.c.id,
                                       reminder_log_t.c.stage == "scaduta")
    where = sa.and_(deadline_t.c.status == "open", deadline_t.c.due < as_of, not_escalated, where)
    return _batches(bind, where, batch_size)


def _batches(bind: Bind, where, batch_size: int):
    last = 0
    while True:
        with reading(bind) as conn:
            rows = conn.execute(
                sa.select(*_COLUMNS).select_from(_FROM).where(where, deadline_t.c.id > last)
                .order_by(deadline_t.c.id).limit(batch_size)
            ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def logged_stages(bind: Bind, ids: list[int]) -> dict[int, list[Any]]:
    """{deadline_id: [(deadline_id, stage, recipient, queued_on)]} of the reminders logged for these deadlines."""
    logged: dict[int, list[Any]] = {}
    with reading(bind) as conn:
        if conn.dialect.name == "postgresql":  # one array parameter, not an IN list of 5000
            which = reminder_log_t.c.deadline_id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.Integer)))
        else:
            which = reminder_log_t.c.deadline_id.in_(ids)
        for row in conn.execute(sa.select(reminder_log_t.c.deadline_id, reminder_log_t.c.stage,
                                          reminder_log_t.c.recipient, reminder_log_t.c.queued_on)
                                .where(which)).all():
            logged.setdefault(row.deadline_id, []).append(row)
    return logged
