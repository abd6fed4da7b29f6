"""The "Oggi" page's reads: open deadlines with their case, comune and person, flagged when the deadline sweep
escalated them to the reader; the escalations logged for a user; the statutory breaches counted per case type;
which of a list of cases a user may read.

`scope` and `answers_for` arguments are SQL conditions over `case_file` (services.access builds them from the
one access decision); nothing here decides who may see what. One query per section, read-only.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from store.sql_in import among
from store.tables import Comune, case_t, deadline_t, person_t, reminder_log_t
from store.uow import Bind, reading

comune_t = Comune.__table__
ESCALATION_STAGES = ("scaduta", "normativa")  # the sweep's stages that escalate past the owner (services/sweep.py)

person_a = person_t.alias("persona")  # aliased: the scope's own subquery on person_t must not correlate
_COLUMNS = (deadline_t.c.id, deadline_t.c.case_id, deadline_t.c.kind, deadline_t.c.label, deadline_t.c.due,
            deadline_t.c.source, case_t.c.case_type, case_t.c.owner, comune_t.c.nome.label("comune"),
            person_a.c.cognome, person_a.c.nome)
_FROM = (deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id)
         .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat)
         .outerjoin(person_a, person_a.c.id == case_t.c.person_id))


def _not_owner(username: str) -> sa.ColumnElement[bool]:
    """The overdue notice to the case's own owner is logged with the same stage: not an escalation."""
    return sa.or_(case_t.c.owner.is_(None), case_t.c.owner != username)


def _escalated_to(username: str):
    return sa.and_(_not_owner(username), sa.exists().where(
        reminder_log_t.c.deadline_id == deadline_t.c.id, reminder_log_t.c.stage.in_(ESCALATION_STAGES),
        reminder_log_t.c.recipient == username))


def _listed(conn, where: sa.ColumnElement[bool], order, username: str, limit: int) -> tuple[list[Any], int]:
    """The first `limit` deadline rows (with `escalated`: the sweep escalated it to `username`), and how many."""
    escalated = _escalated_to(username).label("escalated")
    rows = conn.execute(sa.select(*_COLUMNS, escalated).select_from(_FROM).where(where).order_by(*order)
                        .limit(limit)).all()
    total = len(rows) if len(rows) < limit else conn.execute(
        sa.select(sa.func.count()).select_from(_FROM).where(where)).scalar_one()
    return rows, total


def deadlines_due(bind: Bind, answers_for: sa.ColumnElement[bool], *, username: str, today: date, horizon: date,
                  limit: int) -> tuple[list[Any], int, list[Any], int]:
    """(overdue rows, how many, rows due from today to `horizon`, how many) of the open deadlines on the cases
    `answers_for` selects, by due date."""
    base = sa.and_(deadline_t.c.status == "open", answers_for)
    with reading(bind) as conn:
        overdue, n_overdue = _listed(conn, sa.and_(base, deadline_t.c.due < today),
                                     (deadline_t.c.due, deadline_t.c.id), username, limit)
        upcoming, n_upcoming = _listed(conn, sa.and_(base, deadline_t.c.due >= today, deadline_t.c.due <= horizon),
                                       (deadline_t.c.due, deadline_t.c.id), username, limit)
    return overdue, n_overdue, upcoming, n_upcoming


def escalations(bind: Bind, scope: sa.ColumnElement[bool], *, username: str, today: date,
                limit: int) -> list[Any]:
    """Deadline rows (with the log's `stage` and `queued_on`) of the overdue deadlines still open that the sweep
    escalated to `username`, within `scope`: one row per logged stage."""
    log = reminder_log_t
    q = (sa.select(*_COLUMNS, log.c.stage, log.c.queued_on)
         .select_from(_FROM.join(log, log.c.deadline_id == deadline_t.c.id))
         .where(deadline_t.c.status == "open", deadline_t.c.due < today, log.c.stage.in_(ESCALATION_STAGES),
                log.c.recipient == username, _not_owner(username), scope)
         .order_by(deadline_t.c.due, deadline_t.c.id, log.c.stage)
         .limit(limit))
    with reading(bind) as conn:
        return conn.execute(q).all()


def statutory_breaches(bind: Bind, scope: sa.ColumnElement[bool], *, username: str, today: date,
                       limit: int, ambito: str | None = None) -> tuple[list[Any], list[tuple[str, int]]]:
    """(deadline rows within `scope`, [(case_type, how many)] outside it but in `ambito`, when given) of the
    statutory deadlines passed and still open. Outside the scope is not another Ambito: those are not counted."""
    breached = sa.and_(deadline_t.c.status == "open", deadline_t.c.due < today, deadline_t.c.source == "statutory")
    with reading(bind) as conn:
        listed, _ = _listed(conn, sa.and_(breached, scope), (deadline_t.c.due, deadline_t.c.id), username, limit)
        counted = conn.execute(
            sa.select(case_t.c.case_type, sa.func.count())
            .select_from(deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id))
            .where(breached, sa.not_(scope), *([case_t.c.ambito_code == ambito] if ambito is not None else []))
            .group_by(case_t.c.case_type).order_by(case_t.c.case_type)
        ).all()
    return listed, [(t, n) for t, n in counted]


def readable_case_ids(bind: Bind, scope: sa.ColumnElement[bool], ids: Iterable[int], chunk: int = 1000) -> set[int]:
    """Which of `ids` are within `scope` (in chunks: a year-end ISEE list can hold many thousand cases). The ids
    go as one array (`among`): as an IN list of a bound parameter each, SQLAlchemy rendered and psycopg parsed
    a statement of ~1,700 parameters on every view of a worker's Oggi at 100,000 cases."""
    ordered, visible = sorted(ids), set()
    if not ordered:
        return visible
    with reading(bind) as conn:
        step = chunk * 10 if conn.dialect.name == "postgresql" else chunk  # SQLite: one parameter per id
        for i in range(0, len(ordered), step):
            visible.update(conn.execute(sa.select(case_t.c.id).where(among(case_t.c.id, ordered[i:i + step]),
                                                                     scope)).scalars().all())
    return visible
