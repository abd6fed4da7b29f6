"""Scope and redaction in the service layer: every entrypoint reads and acts on cases through here.

- `principal_for` turns a user into a `Principal` (role, sub-ambito and its comuni, provider, admin flag);
- `authorize_read` / `authorize_fire` / `authorize_open` raise `AccessDenied` with the Italian reason;
- `read_case` is the detail a user may see: authorised, redacted field by field, and — when health data is
  in what is returned — logged in the append-only `health_access_log` before it is returned;
- `scoped_filter` is the same scope as a SQL condition over `case_file`, for lists (`list_cases`);
- `ScopedCaseService` wraps `CaseService` so that opening and advancing check scope first.

The rules themselves are in domain/access.py (pure); this module only loads the keys they look at.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from domain.access import (
    DEFAULT_POLICY,
    FIELD_CLASS_LABELS,
    AccessDenied,
    AccessPolicy,
    AmbitoScope,
    CaseRef,
    FieldClass,
    Principal,
    acting_for,
    answers_for,
    field_map,
    fire_refusal,
    is_minor,
    read_as_minor_processor,
    read_refusal,
    read_scope,
    visible_fields,
)
from domain.errors import NotFound, UnknownTransition
from domain.italian import ROME
from domain.registry import get_workflow
from domain.workflow import Role
from store import case_reads, health_log, reference, users
from store.access_sql import to_sql
from services.request_memo import remembered
from store.uow import reading, writing

R = Role


def _today() -> date:
    return datetime.now(ROME).date()


# ----------------------------------------------------------------------------- principals and case keys


def principal_for(engine: Engine | Connection, username: str) -> Principal:
    """The active user `username` as a Principal; AccessDenied if unknown, disabled or of an unknown role."""
    with reading(engine) as conn:
        row = users.user(conn, username)
        if row is None:
            raise AccessDenied("utente inesistente o disattivato")
        role = _role_of(row)
        comuni = reference.comuni_of(conn, row.sub_ambito)
        code, ambito_comuni, default = reference.ambito_comuni(conn, row.ambito_code)
    return principal_of(row, comuni, role, ambito=AmbitoScope(code, ambito_comuni, default) if code else None)


def _role_of(row: users.UserRecord) -> Role:
    try:
        return Role(row.role)
    except ValueError:
        raise AccessDenied(f"ruolo «{row.role}» sconosciuto") from None


def principal_of(row: users.UserRecord, comuni: frozenset[str], role: Role | None = None, *,
                 ambito: AmbitoScope | None = None) -> Principal:
    """An active user already read (with their sub-ambito's comuni and their Ambito) as a Principal; AccessDenied
    if of an unknown role. The per-request authentication reads all in one statement (store.users.ActingUser)."""
    role = role or _role_of(row)
    if role is R.REGIONAL_READER:
        ambito = None  # belongs to no Ambito: reads aggregates across them, no case (domain.access)
    return Principal(row.username, role, row.sub_ambito, row.provider_codice, comuni,
                     row.is_admin, row.full_name or row.username, ambito=ambito)


def acting_principal(acting: users.ActingUser) -> Principal:
    """The Principal of a user read by the per-request statement (session cookie, HTTP Basic)."""
    scope = AmbitoScope(acting.ambito, acting.ambito_comuni, acting.ambito_default) if acting.ambito else None
    return principal_of(acting.record, acting.comuni, ambito=scope)


def case_ref(conn: Engine | Connection, case_id: int, today: date) -> CaseRef:
    """The authorisation keys of a case: type, comune and its sub-ambito, owner, provider, minor, state."""
    row = remembered(("case_keys", case_id), lambda: case_reads.case_keys(conn, case_id))  # once per page
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return CaseRef(row.case_type, row.comune_istat, row.sub_ambito, row.owner, row.provider_codice,
                   is_minor(row.data_nascita, today), row.state, row.kind, row.ambito_code)


def readable_case_ids(principal: Principal, rows: Iterable[Any], today: date,
                      policy: AccessPolicy = DEFAULT_POLICY) -> set[int]:
    """The ids of the rows (each with `case_id` and the keys `case_ref` reads, e.g.
    store.persons.cases_of_person_of_case) that `principal` may read: the decision `scoped_filter` compiles
    to SQL, taken here on keys already read."""
    return {r.case_id for r in rows
            if read_refusal(principal, CaseRef(r.case_type, r.comune_istat, r.sub_ambito, r.owner, r.provider_codice,
                                               is_minor(r.data_nascita, today), r.state, r.kind,
                                               getattr(r, "ambito_code", None)), policy) is None}


# ----------------------------------------------------------------------------- authorisation


def authorize_read(engine: Engine, principal: Principal, case_id: int, *, today: date | None = None,
                   policy: AccessPolicy = DEFAULT_POLICY) -> None:
    _authorized_ref(engine, principal, case_id, today or _today(), policy)


def _authorized_ref(engine: Engine | Connection, principal: Principal, case_id: int, today: date,
                    policy: AccessPolicy) -> CaseRef:
    ref = case_ref(engine, case_id, today)
    reason = read_refusal(principal, ref, policy)
    if reason is not None:
        raise AccessDenied(reason)
    return ref


def authorize_fire(engine: Engine, principal: Principal, case_id: int, transition: str, *,
                   today: date | None = None, policy: AccessPolicy = DEFAULT_POLICY) -> CaseRef:
    """The case's authorisation keys, once `principal` may fire `transition` on it."""
    ref = _authorized_ref(engine, principal, case_id, today or _today(), policy)
    wf = get_workflow(ref.case_type)
    t = wf.transition(transition)
    if t is None:
        raise UnknownTransition(f"la transizione «{transition}» non esiste per «{wf.label}»")
    reason = fire_refusal(principal, ref, t, policy)
    if reason is not None:
        raise AccessDenied(reason)
    return ref


def authorize_open(engine: Engine, principal: Principal, case_type: str, transition: str | None = None,
                   comune_istat: str | None = None, *, policy: AccessPolicy = DEFAULT_POLICY) -> None:
    wf = get_workflow(case_type)
    t = wf.transition(transition) if transition else wf.opening_transitions()[0]
    if t is None or not t.opening:
        raise UnknownTransition(f"«{transition}» non apre un caso di tipo «{wf.label}»")
    sub_ambito = reference.sub_ambito_of(engine, comune_istat)
    reason = fire_refusal(principal, CaseRef(case_type, comune_istat, sub_ambito), t, policy)
    if reason is not None:
        raise AccessDenied(reason)


# ----------------------------------------------------------------------------- redaction


def redact(detail: dict[str, Any], principal: Principal, *, case: CaseRef | None = None,
           policy: AccessPolicy = DEFAULT_POLICY, health_seen: set[str] | None = None,
           fresh: bool = False) -> dict[str, Any]:
    """A copy of a `case_detail` dict with only the field classes `principal` may see.

    Removed: keys of "dati" and of each "storia" row's "dati" of a hidden class, down to nested parts of
    a kept key (a snapshot's health-derived points); "persona" if identity is hidden; reasons ("motivo",
    "motivo_esito") if social notes are hidden. "dati_riservati" lists the classes (Italian labels) that
    were actually taken out, so a page can say that something is hidden. `health_seen` (if given) collects
    the paths of the health data that was kept (what the read log names). `fresh`: `detail` was built for
    this call and is not used afterwards, so only the parts redaction rewrites are copied, not the whole.
    """
    ref = case or CaseRef(detail["tipo"], detail.get("comune_istat"), detail.get("sub_ambito"),
                          detail.get("assegnatario"), detail.get("ente"), state=detail.get("stato"))
    visible = visible_fields(principal, ref, policy)
    fields = field_map(detail["tipo"])
    if fresh:
        out = dict(detail)
        if "storia" in out:
            out["storia"] = [dict(row) for row in out["storia"]]
    else:
        out = copy.deepcopy(detail)
    hidden: set[FieldClass] = set()
    if out.pop("dati_sanitari_sigillati", False):  # stored sealed, not decrypted for this reader
        hidden.add(FieldClass.HEALTH)

    def keep(data: dict[str, Any] | None) -> dict[str, Any]:
        kept = {}
        for key, value in (data or {}).items():
            cls = fields.of(key) if fields is not None else FieldClass.HEALTH
            if cls not in visible:
                hidden.add(cls)
            elif fields is not None:
                kept[key] = fields.filter(key, value, visible, hidden, health_seen)
            else:
                kept[key] = value
        return kept

    if FieldClass.IDENTITY not in visible and out.get("persona") is not None:
        out["persona"] = None
        hidden.add(FieldClass.IDENTITY)
    out["dati"] = keep(out.get("dati"))
    social = FieldClass.SOCIAL in visible
    for row in out.get("storia", []):
        row["dati"] = keep(row.get("dati"))
        if not social and row.get("motivo"):
            row["motivo"] = None
            hidden.add(FieldClass.SOCIAL)
    if not social and out.get("motivo_esito"):
        out["motivo_esito"] = None
        hidden.add(FieldClass.SOCIAL)
    out["dati_riservati"] = sorted(FIELD_CLASS_LABELS[c] for c in hidden)
    return out


def health_fields(detail: dict[str, Any], principal: Principal | None = None) -> list[str]:
    """The health-class paths present in a (redacted) detail: what a health read log row names."""
    fields = field_map(detail["tipo"])
    seen: set[str] = set()
    rows = [detail.get("dati") or {}, *((h.get("dati") or {}) for h in detail.get("storia", []))]
    for data in rows:
        for key, value in data.items():
            if fields is None:
                seen.add(key)
            else:
                fields.filter(key, value, frozenset(FieldClass), set(), seen)
    return sorted(seen)


def read_case(engine: Engine, principal: Principal, case_id: int, *, today: date | None = None,
              now: datetime | None = None, policy: AccessPolicy = DEFAULT_POLICY,
              context: str = "case_detail", steps_with_data: int | None = None) -> dict[str, Any]:
    """The case as `principal` may see it. Health data in the answer is logged before it is returned.

    `steps_with_data`: only the latest that many steps keep their recorded data (a page showing the older ones
    as one line each); the older ones come with `dati` empty and `dati_omessi` true, and what they held is
    neither redacted nor logged as read, since it is not returned. None: every step's data."""
    from services.queries import case_detail
    from services.referral import apply_person_view

    today = today or _today()
    with reading(engine) as conn:  # one pooled connection for the whole read
        ref = _authorized_ref(conn, principal, case_id, today, policy)
        sees_health = FieldClass.HEALTH in visible_fields(principal, ref, policy)  # else never decrypted
        seen: set[str] = set()  # the health paths redaction kept: what the read log names
        whole = case_detail(conn, case_id, role=principal.role, today=today, health=sees_health)
        if steps_with_data is not None:
            _omit_older_data(whole["storia"], steps_with_data)
        detail = redact(whole, principal, case=ref, policy=policy, fresh=True, health_seen=seen)
        detail = apply_person_view(detail, conn, principal, case_id, today=today)  # DOMAIN.md §13 out of scope
    wf = get_workflow(ref.case_type)
    detail["prossime_transizioni"] = [
        t for t in detail["prossime_transizioni"]
        if (tr := wf.transition(t["transizione"])) is not None and fire_refusal(principal, ref, tr, policy) is None
    ]
    # redaction collected them as it walked (a call's ranking snapshots are ~6,000 values); a type without a
    # field map (every key health data) is read again as before
    fields = sorted(seen) if field_map(ref.case_type) is not None else health_fields(detail)
    if read_as_minor_processor(principal, ref, policy):
        fields = ["caso_di_minore", *fields]  # read through the case type's rule for minors [A]: logged
    if fields:
        log_health_read(engine, principal, case_id, fields, at=now, context=context)
    return detail


def _omit_older_data(rows: list[dict[str, Any]], kept: int) -> None:
    """Every step but the latest `kept` without its recorded data (marked `dati_omessi` when it had some)."""
    for i in range(max(len(rows) - max(kept, 0), 0)):
        row = rows[i]
        rows[i] = {**row, "dati": {}, "dati_omessi": bool(row.get("dati"))}


def log_health_read(engine: Engine, principal: Principal, case_id: int, fields: Iterable[str], *,
                    at: datetime | None = None, context: str = "case_detail") -> None:
    """Append who read which health fields of which case and when (the row cannot be changed afterwards)."""
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with writing(engine) as conn:
        health_log.append(conn, [{
            "case_id": case_id, "username": principal.username, "role": principal.role.value,
            "read_at": when, "fields": sorted(set(fields)), "context": context,
        }])


def health_reads(engine: Engine, *, case_id: int | None = None, username: str | None = None) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "caso": r.case_id, "utente": r.username, "ruolo": r.role, "campi": list(r.fields),
         "letto_il": (r.read_at if r.read_at.tzinfo else r.read_at.replace(tzinfo=timezone.utc)),
         "contesto": r.context}
        for r in health_log.reads(engine, case_id=case_id, username=username)
    ]


# ----------------------------------------------------------------------------- lists


def scoped_filter(principal: Principal, *, today: date | None = None,
                  policy: AccessPolicy = DEFAULT_POLICY) -> sa.ColumnElement[bool]:
    """The read scope of `principal` as a condition over `case_file`: `domain.access.read_scope` compiled to
    SQL, so it says what `can_read_case` says for every case (an integration test checks both over a matrix
    of users and cases); field redaction still applies to what a list shows."""
    return to_sql(read_scope(principal, policy), principal, today=today or _today())


def answers_for_filter(principal: Principal, *, today: date | None = None,
                       policy: AccessPolicy = DEFAULT_POLICY) -> sa.ColumnElement[bool]:
    """The cases whose deadlines are `principal`'s (Oggi, calendar feed), within their read scope."""
    day = today or _today()
    return sa.and_(to_sql(answers_for(principal), principal, today=day),
                   scoped_filter(principal, today=day, policy=policy))


def visible_case_ids(engine: Engine, principal: Principal, *, today: date | None = None,
                     policy: AccessPolicy = DEFAULT_POLICY) -> list[int]:
    return case_reads.case_ids(engine, scoped_filter(principal, today=today, policy=policy))


def summary_in_scope(engine: Engine, principal: Principal, *, today: date | None = None,
                     policy: AccessPolicy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """Cases by type and state, counting only those `principal` may read (`legami case summary`)."""
    rows = case_reads.count_by_type_and_state(engine, scoped_filter(principal, today=today, policy=policy))
    return [{"tipo": r.case_type, "tipo_etichetta": get_workflow(r.case_type).label, "stato": r.state,
             "stato_etichetta": get_workflow(r.case_type).state(r.state).label, "casi": r.n} for r in rows]


# ----------------------------------------------------------------------------- guarded use cases


class ScopedCaseService:
    """CaseService behind the scope check: what a web page or API call uses instead of CaseService.

    The check reads the case in its own short transaction just before the command's unit of work; a
    reassignment landing in between is not re-checked (moving the check inside CaseService's unit of work
    is a later change to services/cases.py).
    """

    def __init__(self, service: Any, policy: AccessPolicy = DEFAULT_POLICY):
        self.service = service
        self.engine: Engine = service.engine
        self.policy = policy

    def today(self) -> date:
        return self.service.clock().astimezone(ROME).date()

    def open_case(self, principal: Principal, *, case_type: str, data: dict[str, Any],
                  transition: str | None = None, comune_istat: str | None = None, **kwargs: Any) -> int:
        authorize_open(self.engine, principal, case_type, transition, comune_istat, policy=self.policy)
        from services.person import duplicate_check  # a second open case of the type needs a reason (§13)

        check = duplicate_check(principal, case_type=case_type, reason=kwargs.get("reason"), today=self.today())
        return self.service.open_case(case_type=case_type, actor=principal.actor(), data=data,
                                      transition=transition, comune_istat=comune_istat, check=check, **kwargs)

    def deputised(self, principal: Principal) -> Principal:
        """`principal` with the workers they stand in for today as deputy (services/handover.py)."""
        from services.handover import with_deputyships

        return with_deputyships(self.engine, principal, self.today())

    def advance(self, principal: Principal, *, case_id: int, transition: str, **kwargs: Any) -> int:
        return self.fire(principal, case_id=case_id, transition=transition, **kwargs)[0]

    def fire(self, principal: Principal, *, case_id: int, transition: str,
             **kwargs: Any) -> tuple[int, str, str]:
        """`advance`, answering (seq, case type, state now): seq is also the case's new version, so a
        caller reporting the outcome need not read the case again."""
        principal = self.deputised(principal)
        ref = authorize_fire(self.engine, principal, case_id, transition, today=self.today(), policy=self.policy)
        from services.documents import check_required_documents  # the documents a transition requires (§14)

        check_required_documents(self.engine, case_id, transition, case_type=ref.case_type)
        actor = principal.actor()
        if principal.represents:  # a deputy's act records the absent owner beside the deputy
            owner = acting_for(principal, case_ref(self.engine, case_id, self.today()))
            actor = dataclasses.replace(actor, on_behalf_of=owner)
        seq, state = self.service.advanced(case_id=case_id, transition=transition, actor=actor, **kwargs)
        return seq, ref.case_type, state

    def read(self, principal: Principal, case_id: int, *, steps_with_data: int | None = None) -> dict[str, Any]:
        principal = self.deputised(principal)
        return read_case(self.engine, principal, case_id, today=self.today(), now=self.service.clock(),
                         policy=self.policy, steps_with_data=steps_with_data)

    def case_ref(self, principal: Principal, case_id: int) -> CaseRef:
        """The case's authorisation keys, once `principal` may read it (AccessDenied otherwise)."""
        return _authorized_ref(self.engine, principal, case_id, self.today(), self.policy)

    def allowed(self, principal: Principal, case_id: int) -> list[str]:
        principal = self.deputised(principal)
        ref = _authorized_ref(self.engine, principal, case_id, self.today(), self.policy)
        wf = get_workflow(ref.case_type)
        return [t.name for t in wf.transitions_from(ref.state, ref.kind)
                if fire_refusal(principal, ref, t, self.policy) is None]

