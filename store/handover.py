"""Hand-over, deputies and transfers in the database (domain/handover.py says what they are).

A reassignment or a transfer is one more step of the case's own history: a `case_transition` row chained to the
case's head (`case_file.audit_hash`) with the state unchanged, and the case row's owner or comune moved by the
same version-guarded UPDATE that moves the head, so `legami audit verify` checks it like any step and a concurrent
step on the same case makes one of the two a conflict. Deputyships are rows of `deputyship`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.audit import GENESIS, STEP_FIELDS, row_hash
from domain.errors import ConflictError, NotFound
from domain.italian import ROME
from store.reference import case_ambito_sql
from store.tables import AppUser, Comune, case_t, deadline_t, deputyship_t, person_t, transition_t

c, dep, u, comune_t = case_t.c, deputyship_t, AppUser.__table__, Comune.__table__


def _case_select() -> sa.Select:
    return (sa.select(c.id, c.case_type, c.kind, c.state, c.version, c.audit_hash, c.owner, c.comune_istat,
                      c.provider_codice, comune_t.c.sub_ambito, person_t.c.data_nascita, person_t.c.cognome,
                      person_t.c.nome, c.ambito_code)
            .select_from(case_t.outerjoin(comune_t, comune_t.c.istat == c.comune_istat)
                         .outerjoin(person_t, person_t.c.id == c.person_id)))


def case_row(conn: Connection, case_id: int) -> Any:
    row = conn.execute(_case_select().where(c.id == case_id)).first()
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return row


def cases_owned_by(conn: Connection, owner: str) -> list[Any]:
    """Every case assigned to `owner` (open or not: the caller keeps the open ones), in id order."""
    return list(conn.execute(_case_select().where(c.owner == owner).order_by(c.id)))


def record_step(conn: Connection, case: Any, *, step: str, actor: str, actor_role: str, reason: str,
                data: Mapping[str, Any], at: datetime, owner: str | None = None, comune: str | None = None,
                clear_owner: bool = False) -> int:
    """Append `step` (state unchanged) to the case's chain and move its owner and/or comune, in the caller's
    transaction; ConflictError if the case moved since `case` was read. Returns the step's number."""
    seq, at_utc = case.version + 1, at.astimezone(timezone.utc)
    row = {"case_id": case.id, "seq": seq, "transition": step, "from_state": case.state, "to_state": case.state,
           "actor": actor, "actor_role": actor_role, "recorded_at": at_utc, "effective_at": at_utc,
           "reason": reason, "data": dict(data), "on_behalf_of": None}
    head = row_hash(case.audit_hash or GENESIS, row, STEP_FIELDS)
    moved = {"version": seq, "audit_hash": head}
    if owner is not None or clear_owner:
        moved["owner"] = owner
    if comune is not None:
        moved["comune_istat"] = comune
        moved["ambito_code"] = case_ambito_sql(comune)  # a transfer carries the case into the new comune's Ambito
    done = conn.execute(sa.update(case_t).where(c.id == case.id, c.version == case.version).values(**moved))
    if done.rowcount != 1:
        raise ConflictError(f"il caso {case.id} è stato modificato da un altro utente nel frattempo: "
                            "ricaricare e riprovare")
    if comune is not None:  # its deadlines follow it (0023: a deadline carries its case's Ambito)
        conn.execute(sa.update(deadline_t).where(deadline_t.c.case_id == case.id).values(
            ambito_code=sa.select(c.ambito_code).where(c.id == case.id).scalar_subquery()))
    conn.execute(transition_t.insert(), {**row, "effective_on": at.astimezone(ROME).date(), "hash": head})
    return seq


# ----------------------------------------------------------------------------- people


def people(conn: Connection, usernames: Iterable[str]) -> dict[str, Any]:
    """Active users by username: (username, full_name, email, role, sub_ambito)."""
    names = sorted(set(usernames))
    if not names:
        return {}
    rows = conn.execute(sa.select(u.c.username, u.c.full_name, u.c.email, u.c.role, u.c.sub_ambito)
                        .where(u.c.username.in_(names), u.c.active.is_(True)))
    return {r.username: r for r in rows}


def coordinators_of(conn: Connection, sub_ambito: str | None) -> list[Any]:
    if sub_ambito is None:
        return []
    return list(conn.execute(sa.select(u.c.username, u.c.full_name, u.c.email)
                             .where(u.c.role == "subarea_coordinator", u.c.sub_ambito == sub_ambito,
                                    u.c.active.is_(True)).order_by(u.c.username)))


def find_comune(conn: Connection, wanted: str) -> Any:
    """(istat, nome, sub_ambito) of the comune with this ISTAT code or this name (any case), or None."""
    q = sa.select(comune_t.c.istat, comune_t.c.nome, comune_t.c.sub_ambito)
    return (conn.execute(q.where(comune_t.c.istat == wanted)).first()
            or conn.execute(q.where(sa.func.lower(comune_t.c.nome) == wanted.lower())).first())


def comune_names(conn: Connection, codes: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({x for x in codes if x})
    return dict(conn.execute(sa.select(comune_t.c.istat, comune_t.c.nome).where(comune_t.c.istat.in_(wanted)))
                .all()) if wanted else {}


# ----------------------------------------------------------------------------- deputyships


def add_deputyship(conn: Connection, values: Mapping[str, Any]) -> int:
    return conn.execute(dep.insert().returning(dep.c.id), dict(values)).scalar_one()


def end_deputyship(conn: Connection, deputyship_id: int, *, last_day: date, by: str, at: datetime) -> None:
    conn.execute(sa.update(dep).where(dep.c.id == deputyship_id)
                 .values(al=last_day, ended_by=by, ended_at=at.astimezone(timezone.utc)))


def deputyship(conn: Connection, deputyship_id: int) -> Any:
    return conn.execute(sa.select(dep).where(dep.c.id == deputyship_id)).first()


def deputyships(conn: Connection, *, sub_ambito: str | None = None, from_day: date | None = None) -> list[Any]:
    """Deputyships of the workers of `sub_ambito` (all if None) not over before `from_day`, latest first."""
    worker = u.alias("worker")
    q = (sa.select(dep, worker.c.sub_ambito).select_from(dep.join(worker, worker.c.username == dep.c.worker))
         .order_by(dep.c.dal.desc(), dep.c.id.desc()))
    if sub_ambito is not None:
        q = q.where(worker.c.sub_ambito == sub_ambito)
    if from_day is not None:
        q = q.where(dep.c.al >= from_day)
    return list(conn.execute(q))


def represented_by(conn: Connection, deputy: str, day: date) -> frozenset[str]:
    """The workers `deputy` stands in for on `day`."""
    return frozenset(conn.execute(sa.select(dep.c.worker).where(dep.c.deputy == deputy, dep.c.dal <= day,
                                                                dep.c.al >= day)).scalars())
