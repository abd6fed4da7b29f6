"""The import of existing cases: which external ids are already loaded, the record of each loaded row, and a case's
steps as the import template reads them (services/importing.py). Set-based: one read per file, one bulk insert."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.engine import UserView
from domain.italian import ROME
from domain.workflow import Role
from store.health_store import steps_of_case
from store.hot_sql import _cursor
from store.sealed import merge
from store.tables import AppUser, case_import_t, case_t, deadline_t, person_t, reminder_log_t, transition_t
from store.uow import Bind, reading

ci = case_import_t


def imported_ids(bind: Bind, case_type: str) -> dict[str, int]:
    """{external id: case id} of the cases of `case_type` loaded by earlier imports."""
    with reading(bind) as conn:
        rows = conn.execute(sa.select(ci.c.external_id, ci.c.case_id).where(ci.c.case_type == case_type))
        return {external_id: case_id for external_id, case_id in rows}


def active_users(bind: Bind) -> dict[str, UserView]:
    """Every active user as the guards see one (store.cases.load_user's answer, for each): read once per load
    for its worker processes, which have no connection."""
    t = AppUser.__table__.c
    with reading(bind) as conn:
        rows = conn.execute(sa.select(t.username, t.role, t.sub_ambito, t.provider_codice, t.email, t.full_name)
                            .where(t.active.is_(True)))
        return {r[0]: UserView(r[0], Role(r[1]), r[2], r[3], r[4], r[5]) for r in rows}


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One row per loaded case, in the load's own transaction (a second import of the id then adds nothing)."""
    if rows:
        conn.execute(ci.insert(), list(rows))


IMPORT_RECIPIENT = "importazione"  # who the settled stage names: nobody was reminded, the case came in late


def settle_missed_deadlines(conn: Connection, case_ids: Sequence[int], import_day: date) -> int:
    """The open deadlines of just-imported cases already past on the import day, logged as escalated on that day
    to «importazione»: the sweep escalates a deadline once (`store.sweep.overdue_not_escalated`), so nobody is
    reminded of what was missed before the case came into Legami. Returns how many were settled."""
    if not case_ids:
        return 0
    d = deadline_t.c
    missed = [r.id for r in conn.execute(sa.select(d.id).where(d.case_id.in_(list(case_ids)), d.status == "open",
                                                              d.due < import_day))]
    if missed:
        conn.execute(reminder_log_t.insert(), [
            {"key": f"scadenza:{i}:scaduta:{IMPORT_RECIPIENT}", "deadline_id": i, "stage": "scaduta",
             "recipient": IMPORT_RECIPIENT, "queued_on": import_day, "digest_key": IMPORT_RECIPIENT}
            for i in missed])
    return len(missed)


def case_for_template(bind: Bind, case_id: int) -> dict[str, Any] | None:
    """A case's keys, its person and every step (transition, effective day in Rome, reason, data with the sealed
    health part opened): what an export into the import template writes. None if the case does not exist."""
    with reading(bind) as conn:
        c, p, t = case_t.c, person_t.c, transition_t.c
        case = conn.execute(
            sa.select(c.case_type, c.state, c.comune_istat, c.kind, c.owner, c.related_case_id, p.codice_fiscale, p.cognome,
                      p.nome, p.data_nascita, p.email, p.telefono)
            .select_from(case_t.outerjoin(person_t, p.id == c.person_id)).where(c.id == case_id)).mappings().first()
        if case is None:
            return None
        health = steps_of_case(conn, case_id)
        steps = [{"seq": r.seq, "transition": r.transition, "on": _rome_day(r.effective_at), "reason": r.reason,
                  "data": merge(r.data or {}, health.get(r.seq, {}))}
                 for r in conn.execute(sa.select(t.seq, t.transition, t.effective_at, t.reason, t.data)
                                       .where(t.case_id == case_id).order_by(t.seq))]
        parent = None
        if case["related_case_id"] is not None:
            parent = conn.execute(sa.select(ci.c.external_id).where(ci.c.case_id == case["related_case_id"])).scalar()
        return {**case, "steps": steps, "parent_external_id": parent}


def _rome_day(value: Any) -> date:
    from datetime import timezone

    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(ROME).date()


def state_on(bind: Bind, case_id: int, when: Any) -> str | None:
    """The state a case was in at `when` (its last step effective by then), None before it was opened."""
    t = transition_t.c
    with reading(bind) as conn:
        return conn.execute(sa.select(t.to_state).where(t.case_id == case_id, t.effective_at <= when)
                            .order_by(t.seq.desc()).limit(1)).scalar()


def people(conn: Connection, codici: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{codice fiscale: stored identity (id, cognome, nome, data_nascita)} of the people among `codici`: one read
    for a batch of rows."""
    if not codici:
        return {}
    cur = _cursor(conn)  # the SQL Core's in_() renders, without compiling it per batch (the load's own cursor)
    wanted = sorted(set(codici))
    rows = cur.fetch_all("SELECT person.codice_fiscale, person.id, person.cognome, person.nome, person.data_nascita "
                         f"FROM person WHERE person.codice_fiscale IN ({', '.join([cur.sql.p] * len(wanted))})",
                         wanted)
    day = cur.sql.read_day
    return {r[0]: {"codice_fiscale": r[0], "id": r[1], "cognome": r[2], "nome": r[3], "data_nascita": day(r[4])}
            for r in rows}


def insert_person(conn: Connection, person: dict[str, Any], provisional: bool) -> int:
    values = {k: person.get(k) for k in ("codice_fiscale", "cognome", "nome", "email", "telefono")}
    values["data_nascita"] = date.fromisoformat(str(person["data_nascita"]))
    values["provisional_code"] = provisional
    return conn.execute(person_t.insert().returning(person_t.c.id), values).scalar_one()
