"""The case repository: the hot path of every transition, in SQLAlchemy Core.

One advance = SELECT the case, UPDATE it guarded by its version, INSERT the audit row,
UPDATE/INSERT its deadlines, INSERT any outbox rows; all on one connection, one commit,
made by the caller's unit of work.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

from domain.engine import Actor, CaseView, Decision
from domain.errors import ConflictError, NotFound, StateWriteForbidden
from zoneinfo import ZoneInfo

from store.tables import Case, case_t, deadline_t, outbox_t, person_t, transition_t

_CASE_COLUMNS = (
    case_t.c.id, case_t.c.case_type, case_t.c.kind, case_t.c.state, case_t.c.comune_istat, case_t.c.owner,
    case_t.c.opened_at, case_t.c.state_since, case_t.c.policy_version, case_t.c.data, case_t.c.version,
    case_t.c.related_case_id, case_t.c.provider_codice, person_t.c.codice_fiscale, person_t.c.data_nascita,
)
_SELECT_CASE = (
    sa.select(*_CASE_COLUMNS)
    .select_from(case_t.outerjoin(person_t, person_t.c.id == case_t.c.person_id))
    .where(case_t.c.id == sa.bindparam("case_id"))
)
_LIVE = ("open", "paused")
ROME = ZoneInfo("Europe/Rome")


@event.listens_for(Case.state, "set", propagate=True)
def _state_is_written_only_by_transitions(target, value, oldvalue, initiator) -> None:
    if oldvalue not in (NO_VALUE, NEVER_SET, None) and value != oldvalue:
        raise StateWriteForbidden("lo stato di un caso cambia solo con una transizione")


def load_case(conn: Connection, case_id: int) -> CaseView:
    row = conn.execute(_SELECT_CASE, {"case_id": case_id}).first()
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return row_to_view(row)


def row_to_view(row: Any) -> CaseView:
    person = (
        {"codice_fiscale": row.codice_fiscale, "data_nascita": row.data_nascita} if row.codice_fiscale else None
    )
    return CaseView(
        id=row.id,
        case_type=row.case_type,
        kind=row.kind,
        state=row.state,
        comune_istat=row.comune_istat,
        owner=row.owner,
        opened_on=_aware(row.opened_at).date(),
        state_since=_aware(row.state_since),
        policy_version=row.policy_version,
        data=row.data or {},
        version=row.version,
        related_case_id=row.related_case_id,
        provider_codice=row.provider_codice,
        person=person,
    )


def _utc(value: datetime) -> datetime:
    """Every instant is stored in UTC (SQLite keeps no offset); dates are the caller's (Rome) dates."""
    return value.astimezone(timezone.utc)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def insert_case(
    conn: Connection,
    *,
    decision: Decision,
    view: CaseView,
    actor: Actor,
    recorded_at: datetime,
    person_id: int | None,
) -> int:
    case_id = conn.execute(
        case_t.insert().returning(case_t.c.id),
        {
            "case_type": view.case_type,
            "kind": decision.kind,
            "state": decision.to_state,
            "comune_istat": view.comune_istat,
            "person_id": person_id,
            "owner": decision.owner,
            "related_case_id": view.related_case_id,
            "provider_codice": decision.provider_codice,
            "policy_version": view.policy_version,
            "opened_at": _utc(decision.effective_at),
            "state_since": _utc(decision.effective_at),
            "data": decision.case_data,
            "version": 1,
        },
    ).scalar_one()
    _insert_audit(conn, case_id, 1, decision, actor, recorded_at)
    _insert_deadlines(conn, case_id, 1, decision)
    return case_id


def apply_decision(
    conn: Connection, *, case: CaseView, decision: Decision, actor: Actor, recorded_at: datetime
) -> int:
    """Persist an advance; raises ConflictError if the case moved since it was read."""
    values: dict[str, Any] = {
        "state": decision.to_state,
        "state_since": _utc(decision.effective_at),
        "version": case_t.c.version + 1,
    }
    if decision.transition.merge_data:
        values["data"] = decision.case_data
    if decision.owner is not None:
        values["owner"] = decision.owner
    if decision.kind is not None:
        values["kind"] = decision.kind
    if decision.outcome is not None:
        values["outcome"] = decision.outcome.value
        values["outcome_reason"] = decision.outcome_reason
    if decision.provider_codice is not None:
        values["provider_codice"] = decision.provider_codice
    result = conn.execute(_update_statement(frozenset(values) - {"version"}),
                          {**{k: v for k, v in values.items() if k != "version"}, "cid": case.id, "seen": case.version})
    if result.rowcount != 1:
        raise ConflictError(
            f"il caso {case.id} è stato modificato da un altro utente nel frattempo: ricaricare e riprovare"
        )
    seq = case.version + 1
    _insert_audit(conn, case.id, seq, decision, actor, recorded_at)
    _update_deadlines(conn, case.id, decision)
    _insert_deadlines(conn, case.id, seq, decision)
    return seq


@lru_cache(maxsize=64)
def _update_statement(columns: frozenset[str]):
    """The guarded UPDATE for a set of changed columns, built once (the hot path re-uses compiled statements)."""
    return (case_t.update()
            .where(case_t.c.id == sa.bindparam("cid"), case_t.c.version == sa.bindparam("seen"))
            .values(version=case_t.c.version + 1, **{c: sa.bindparam(c) for c in sorted(columns)}))


_INSERT_AUDIT = transition_t.insert()
_INSERT_DEADLINES = deadline_t.insert()


def _insert_audit(conn: Connection, case_id: int, seq: int, d: Decision, actor: Actor, recorded_at: datetime) -> None:
    conn.execute(
        _INSERT_AUDIT,
        {
            "case_id": case_id,
            "seq": seq,
            "transition": d.transition.name,
            "from_state": d.from_state,
            "to_state": d.to_state,
            "actor": actor.username,
            "actor_role": actor.role.value,
            "recorded_at": _utc(recorded_at),
            "effective_at": _utc(d.effective_at),
            "effective_on": d.effective_at.astimezone(ROME).date(),
            "reason": d.reason,
            "data": d.data,
        },
    )


_MET = (
    deadline_t.update()
    .where(
        deadline_t.c.case_id == sa.bindparam("cid"),
        deadline_t.c.status.in_(_LIVE),
        deadline_t.c.kind.in_(sa.bindparam("kinds", expanding=True)),
    )
    .values(status=sa.bindparam("status"), closed_on=sa.bindparam("closed_on"))
)
_CANCEL = (
    deadline_t.update()
    .where(deadline_t.c.case_id == sa.bindparam("cid"), deadline_t.c.status.in_(_LIVE))
    .values(status="cancelled", closed_on=sa.bindparam("closed_on"))
)
_PAUSE = (
    deadline_t.update()
    .where(deadline_t.c.case_id == sa.bindparam("cid"), deadline_t.c.status == "open")
    .values(status="paused")
)


def _update_deadlines(conn: Connection, case_id: int, d: Decision) -> None:
    on = d.effective_at.date()
    if d.met:
        conn.execute(_MET, {"cid": case_id, "kinds": list(d.met), "closed_on": on, "status": "met"})
    if d.expired:
        conn.execute(_MET, {"cid": case_id, "kinds": list(d.expired), "closed_on": on, "status": "expired"})
    if d.cancel_open_deadlines:
        conn.execute(_CANCEL, {"cid": case_id, "closed_on": on})
    if d.pause_deadlines:
        conn.execute(_PAUSE, {"cid": case_id})


def resume_paused_deadlines(
    conn: Connection, case_id: int, shift_days: int, roll: Callable[[date], date]
) -> None:
    """The clock stopped while suspended: move each paused deadline on by the days suspended."""
    rows = conn.execute(
        sa.select(deadline_t.c.id, deadline_t.c.due, deadline_t.c.suspended_days).where(
            deadline_t.c.case_id == case_id, deadline_t.c.status == "paused"
        )
    ).all()
    for row in rows:
        conn.execute(
            deadline_t.update()
            .where(deadline_t.c.id == row.id)
            .values(
                status="open",
                due=roll(row.due + timedelta(days=shift_days)),
                suspended_days=row.suspended_days + shift_days,
            )
        )


def _insert_deadlines(conn: Connection, case_id: int, seq: int, d: Decision) -> None:
    if not d.new_deadlines:
        return
    conn.execute(
        _INSERT_DEADLINES,
        [
            {
                "case_id": case_id,
                "kind": n.kind,
                "label": n.label,
                "due": n.due,
                "basis": n.basis,
                "source": n.source,
                "status": "open",
                "started_seq": seq,
            }
            for n in d.new_deadlines
        ],
    )


def insert_outbox(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(outbox_t.insert(), list(rows))


def find_or_insert_person(conn: Connection, person: dict[str, Any], provisional: bool) -> int:
    existing = conn.execute(
        sa.select(person_t.c.id).where(person_t.c.codice_fiscale == person["codice_fiscale"])
    ).scalar()
    if existing is not None:
        return existing
    values = {k: person.get(k) for k in ("codice_fiscale", "cognome", "nome", "email", "telefono")}
    values["data_nascita"] = date.fromisoformat(str(person["data_nascita"]))
    values["provisional_code"] = provisional
    return conn.execute(person_t.insert().returning(person_t.c.id), values).scalar_one()
