"""The case repository: the hot path of every transition.

One advance = SELECT the case, UPDATE it guarded by its version, INSERT the audit row,
UPDATE/INSERT its deadlines, INSERT any outbox rows; all on one connection, one commit,
made by the caller's unit of work. These statements run on the DBAPI cursor of the caller's
SQLAlchemy connection (see "the hot path" below); everything else stays in Core.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

from domain.audit import GENESIS, step_hash
from domain.engine import Actor, CaseView, Decision, ProviderView, UserView
from domain.errors import ConflictError, NotFound, StateWriteForbidden
from domain.italian import ROME
from domain.workflow import Role
from store.reference import case_ambito_sql
from store.sealed import merge, seal, split, unseal
from store.tables import Case, case_t, person_t


@event.listens_for(Case.state, "set", propagate=True)
def _state_is_written_only_by_transitions(target, value, oldvalue, initiator) -> None:
    if oldvalue not in (NO_VALUE, NEVER_SET, None) and value != oldvalue:
        raise StateWriteForbidden("lo stato di un caso cambia solo con una transizione")


from store.hot_sql import UnitOfWork, _Cursor, _cursor, _dumps, _Sql  # noqa: F401  (UnitOfWork re-exported)


def load_case(conn: Connection | UnitOfWork, case_id: int, *, health: bool = True) -> CaseView:
    """A case as the engine sees it: its sealed health part decrypted into `data` (unless `health` is False:
    for a reader the access module does not let see health data)."""
    cur = _cursor(conn)
    row = cur.fetch_one(cur.sql.select_case, (case_id,))
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return _row_to_view(cur.sql, row, health)


def _row_to_view(sql: _Sql, row: Sequence[Any], health: bool = True) -> CaseView:
    (id_, case_type, kind, state, comune, owner, opened_at, state_since, policy_version, data, version,
     related, provider, codice_fiscale, data_nascita, audit_hash, key_id, nonce, ciphertext) = row
    data = sql.read_json(data) or {}
    if health and key_id is not None:
        data = merge(data, unseal(key_id, nonce, ciphertext, id_, 0))
    person = {"codice_fiscale": codice_fiscale, "data_nascita": sql.read_day(data_nascita)} if codice_fiscale else None
    return CaseView(
        id=id_,
        case_type=case_type,
        kind=kind,
        state=state,
        comune_istat=comune,
        owner=owner,
        opened_on=sql.read_instant(opened_at).astimezone(ROME).date(),
        state_since=sql.read_instant(state_since),
        policy_version=policy_version,
        data=data,
        version=version,
        related_case_id=related,
        provider_codice=provider,
        person=person,
        audit_hash=audit_hash,
    )


def load_user(conn: Connection | UnitOfWork, username: str) -> UserView | None:
    """An active user, as the guards and handlers see it (None if missing or deactivated)."""
    cur = _cursor(conn)
    row = cur.fetch_one(cur.sql.select_user, (username,))
    return None if row is None else UserView(row[0], Role(row[1]), row[2], row[3], row[4], row[5])


def load_provider(conn: Connection | UnitOfWork, codice: str) -> ProviderView | None:
    """A provider with the comuni of its latest SAD adhesion case (its own list if it has none)."""
    cur = _cursor(conn)
    sql = cur.sql
    row = cur.fetch_one(sql.select_provider, (codice,))
    if row is None:
        return None
    codice_, nome, comuni, email = row
    adhesion = cur.fetch_one(sql.select_adhesion, ("sad_adesione", codice))
    adhesion_state, adhesion_data = (adhesion[0], sql.read_json(adhesion[1])) if adhesion else (None, None)
    chosen = (adhesion_data or {}).get("comuni") if adhesion else None
    return ProviderView(
        codice=codice_,
        nome=nome,
        comuni=frozenset(chosen or sql.read_json(comuni)),
        adhesion_state=adhesion_state,
        email=email,
    )


COMMITTED_STATES = ("FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW", "CLOSED")


def committed_on_call(conn: Connection | UnitOfWork, call_id: int) -> Decimal:
    """The yearly amounts of an FNA call's applications in a committed state."""
    cur = _cursor(conn)
    sql = cur.sql
    rows = cur.fetch_all(sql.select_committed, ("fna_domanda", call_id, *COMMITTED_STATES))
    return sum((Decimal(str((sql.read_json(d) or {}).get("importo_annuo", 0))) for (d,) in rows), Decimal(0))


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
        case_t.insert().values(ambito_code=case_ambito_sql(view.comune_istat, actor.username)).returning(case_t.c.id),
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
            "data": split(view.case_type, decision.case_data)[0],
            "version": 1,
        },
    ).scalar_one()
    cur = _cursor(conn)
    _write_health(cur, case_id, 0, split(view.case_type, decision.case_data)[1], existed=False)
    head = _insert_audit(cur, view.case_type, case_id, 1, decision, actor, recorded_at, previous=GENESIS)
    cur.execute(cur.sql.set_audit_head, (head, case_id))
    _insert_deadlines(cur, case_id, 1, decision)
    return case_id


def apply_decision(
    conn: Connection | UnitOfWork, *, case: CaseView, decision: Decision, actor: Actor, recorded_at: datetime
) -> int:
    """Persist an advance; raises ConflictError if the case moved since it was read."""
    cur = _cursor(conn)
    effective_utc = _utc(decision.effective_at)
    seq = case.version + 1
    row, head, health = _audit_row(cur.sql, case.case_type, case.id, seq, decision, actor, recorded_at,
                                   effective_utc, case.audit_hash)
    # the writes in one round trip on PostgreSQL (the same statements, pipelined); the guarded UPDATE's
    # rowcount is read after them: a case moved meanwhile rolls everything back (the caller's unit of work)
    updated = None
    try:
        with cur.batch():
            updated = _update_case(cur, case, decision, effective_utc, head)
            cur.execute(cur.sql.insert_audit, row)
            _write_health(cur, case.id, seq, health, existed=False)
            _update_deadlines(cur, case.id, decision)
            _insert_deadlines(cur, case.id, seq, decision)
    except sa.exc.DBAPIError:
        if cur.pipelined and updated is not None and updated.rowcount == 0:  # e.g. the audit seq is taken
            raise _conflict(case.id) from None
        raise
    if cur.pipelined and updated.rowcount != 1:
        raise _conflict(case.id)
    return seq


def _conflict(case_id: int) -> ConflictError:
    return ConflictError(
        f"il caso {case_id} è stato modificato da un altro utente nel frattempo: ricaricare e riprovare"
    )


def _update_case(cur: _Cursor, case: CaseView, d: Decision, effective_utc: datetime, head: str) -> Any:
    """UPDATE case_file guarded by the version the decision was taken on (optimistic concurrency). Returns
    its cursor: a batch reads the rowcount after the batch (then apply_decision raises the conflict)."""
    sql = cur.sql
    # the columns in table order, as Core would write them
    columns: list[str] = []
    values: list[Any] = []
    if d.kind is not None:
        columns.append("kind")
        values.append(d.kind)
    columns.append("state")
    values.append(d.to_state)
    if d.owner is not None:
        columns.append("owner")
        values.append(d.owner)
    if d.provider_codice is not None:
        columns.append("provider_codice")
        values.append(d.provider_codice)
    columns.append("state_since")
    values.append(sql.ts(effective_utc))
    if d.outcome is not None:
        columns += ("outcome", "outcome_reason")
        values += (d.outcome.value, d.outcome_reason)
    if d.transition.merge_data and d.case_data != case.data:  # a step that adds nothing leaves the data as is
        plain, health = split(case.case_type, d.case_data)
        columns.append("data")
        values.append(sql.json(plain))
        before = split(case.case_type, case.data)[1]
        if health != before:
            _write_health(cur, case.id, 0, health, existed=bool(before))
    columns.append("audit_hash")  # the new head of its history's chain (a version bump without one is refused)
    values.append(head)
    result = cur.execute_counted(sql.update_case(tuple(columns)), (*values, case.id, case.version))
    if not cur.pipelined and result.rowcount != 1:  # SQLite: at once, before the other writes
        raise _conflict(case.id)
    return result


_ROLE_VALUES = {role: role.value for role in Role}  # Enum.value is a descriptor call: ~1 us each time


def _audit_row(sql: _Sql, case_type: str, case_id: int, seq: int, d: Decision, actor: Actor,
               recorded_at: datetime, effective_utc: datetime,
               previous: str | None) -> tuple[tuple, str, dict[str, Any]]:
    """The audit INSERT's parameters, chained to `previous` (the case's head), the row's hash and the step's
    health part (stored sealed, apart from the row). The hash covers the step's data as recorded, health part
    included: `legami audit verify` decrypts it to check the row (store/audit.py)."""
    recorded_utc = _utc(recorded_at)
    role = _ROLE_VALUES[actor.role]
    head = step_hash(previous or GENESIS, case_id, seq, d.transition.name, d.from_state, d.to_state, actor.username,
                     role, recorded_utc, effective_utc, d.reason, d.data, actor.on_behalf_of)
    plain, health = split(case_type, d.data)
    return (case_id, seq, d.transition.name, d.from_state, d.to_state, actor.username, role,
            sql.ts(recorded_utc), sql.ts(effective_utc), sql.day(d.effective_at.astimezone(ROME).date()),
            d.reason, sql.json(plain), head, actor.on_behalf_of), head, health


def _write_health(cur: _Cursor, case_id: int, seq: int, health: dict[str, Any], *, existed: bool) -> None:
    """Seal a health part as (case_id, seq): an INSERT, an UPDATE of the case's current one, or a DELETE when
    the case's data no longer holds any; nothing when there is none."""
    sql = cur.sql
    if not health:
        if existed:
            cur.execute(sql.delete_health, (case_id, seq))
        return
    key_id, nonce, ciphertext = seal(health, case_id, seq)
    if existed:
        cur.execute(sql.update_health, (key_id, nonce, ciphertext, case_id, seq))
    else:
        cur.execute(sql.insert_health, (case_id, seq, key_id, nonce, ciphertext))


def _insert_audit(cur: _Cursor, case_type: str, case_id: int, seq: int, d: Decision, actor: Actor,
                  recorded_at: datetime, effective_utc: datetime | None = None, *, previous: str | None) -> str:
    row, head, health = _audit_row(cur.sql, case_type, case_id, seq, d, actor, recorded_at,
                                   effective_utc or _utc(d.effective_at), previous)
    cur.execute(cur.sql.insert_audit, row)
    _write_health(cur, case_id, seq, health, existed=False)
    return head


def _update_deadlines(cur: _Cursor, case_id: int, d: Decision) -> None:
    sql = cur.sql
    on = sql.day(d.effective_at.date())
    for status, kinds in (("met", d.met), ("expired", d.expired)):
        if kinds:
            cur.execute(sql.close_deadlines(len(kinds)), (status, on, case_id, *kinds))
    if d.cancel_open_deadlines:
        cur.execute(sql.cancel, (on, case_id))
    if d.pause_deadlines:
        cur.execute(sql.pause, (case_id,))


def resume_paused_deadlines(
    conn: Connection | UnitOfWork, case_id: int, shift_days: int, roll: Callable[[date], date]
) -> None:
    """The clock stopped while suspended: move each paused deadline on by the days suspended."""
    cur = _cursor(conn)
    sql = cur.sql
    rows = cur.fetch_all(sql.select_paused, (case_id, "paused"))
    for id_, due, suspended_days in rows:
        cur.execute(sql.resume, ("open", sql.day(roll(sql.read_day(due) + timedelta(days=shift_days))),
                                 suspended_days + shift_days, id_))


def _insert_deadlines(cur: _Cursor, case_id: int, seq: int, d: Decision) -> None:
    if not d.new_deadlines:
        return
    day = cur.sql.day
    params: list[Any] = []
    for n in d.new_deadlines:
        params += (case_id, n.kind, n.label, day(n.due), n.basis, n.source, "open", seq, case_id)
    cur.execute(cur.sql.insert_deadlines(len(d.new_deadlines)), params)


_OUTBOX_DEFAULTS = {"status": "pending", "attempts": 0, "next_attempt_at": None}


def insert_outbox(conn: Connection | UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """The handlers' messages, one multi-row INSERT in the transition's transaction."""
    if not rows:
        return
    cur = _cursor(conn)
    sql = cur.sql
    params: list[Any] = []
    for r in rows:
        r = {**_OUTBOX_DEFAULTS, **r}
        params += (r["idempotency_key"], r["event"], r.get("case_id"), r["recipient"], r["template"],
                   sql.json(r.get("payload") or {}), sql.ts(_utc(r["created_at"])), r["status"], r["attempts"],
                   sql.ts(r["next_attempt_at"] and _utc(r["next_attempt_at"])))
    cur.execute(sql.insert_outbox(len(rows)), params)


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


def load_related_cases(conn: Connection | UnitOfWork, case_id: int, case_type: str) -> list[CaseView]:
    """The cases of `case_type` related to `case_id` (e.g. an FNA call's applications), by id."""
    cur = _cursor(conn)
    sql = cur.sql
    statement = (sql.select_case.rsplit(" WHERE ", 1)[0] + f" WHERE case_file.related_case_id = {sql.p} "
                 f"AND case_file.case_type = {sql.p} ORDER BY case_file.id")
    return [_row_to_view(sql, row) for row in cur.fetch_all(statement, (case_id, case_type))]
