"""Hand-over, deputies and transfers (DOMAIN.md §13, issue 13 item 2): the use cases every entrance calls.

Each change is one unit of work: the step in the case's chain, the case's new owner or comune, and the e-mails
(outbox rows, sent later by the dispatcher) commit together or not at all. Who may do it: domain/access.py
(`handover_refusal`, `transfer_refusal`, `deputy_refusal`); what the input must be: domain/handover.py.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.access import (
    AccessDenied,
    CaseRef,
    Principal,
    deputy_refusal,
    handover_page_refusal,
    handover_refusal,
    is_minor,
    transfer_refusal,
)
from domain.errors import InvalidData, NotFound
from domain.field_errors import FieldError
from domain.handover import (
    FROM_COMUNE,
    FROM_OWNER,
    LABELS,
    REASSIGN,
    TO_COMUNE,
    TO_OWNER,
    TRANSFER,
    check_period,
    check_reason,
    check_required,
    reassign_problem,
    transfer_problem,
)
from domain.italian import ROME
from domain.registry import get_workflow
from domain.workflow import Role
from store import handover as store
from services.request_memo import remembered
from store.cases import insert_outbox
from store.uow import reading, writing


def _day(now: datetime) -> date:
    return now.astimezone(ROME).date()


def _ref(row: Any, today: date) -> CaseRef:
    return CaseRef(row.case_type, row.comune_istat, row.sub_ambito, row.owner, row.provider_codice,
                   is_minor(row.data_nascita, today), row.state, row.kind, row.ambito_code)


def _name(people: Mapping[str, Any], username: str | None) -> str:
    row = people.get(username or "")
    return (row.full_name or row.username) if row is not None else (username or "nessuno")


def _mail(event: str, case_id: int | None, seq: int, template: str, to: Any, payload: dict[str, Any],
          now: datetime) -> list[dict[str, Any]]:
    if to is None or not to.email:
        return []
    return [{"idempotency_key": f"{event}:{case_id}:{seq}:{template}:{to.email}", "event": event, "case_id": case_id,
             "recipient": to.email, "template": template, "created_at": now.astimezone(timezone.utc),
             "payload": {**payload, "destinatario_nome": to.full_name or to.username},
             "next_attempt_at": now.astimezone(timezone.utc)}]


def _terminal(row: Any) -> bool:
    return get_workflow(row.case_type).state(row.state).terminal


# ----------------------------------------------------------------------------- reassigning


def reassign(engine, principal: Principal, case_id: int, raw: Mapping[str, Any], *, now: datetime) -> int:
    """Give the case to another social worker of its sub-ambito, in any open state; both told by e-mail."""
    with writing(engine) as conn:
        row = store.case_row(conn, case_id)
        refusal = handover_refusal(principal, _ref(row, _day(now)))
        if refusal:
            raise AccessDenied(refusal)
        reason = check_reason(raw.get("motivo"))
        return _reassign_one(conn, principal, row, check_required("nuovo_assegnatario",
                                                                  raw.get("nuovo_assegnatario")), reason, now)


def _reassign_one(conn, principal: Principal, row: Any, new_owner: str, reason: str, now: datetime) -> int:
    people = store.people(conn, [new_owner, row.owner or "", principal.username])
    target = people.get(new_owner)
    problem = reassign_problem(state_terminal=_terminal(row), owner=row.owner, new_owner=new_owner,
                               new_owner_role=target.role if target else None,
                               new_owner_sub_ambito=target.sub_ambito if target else None,
                               case_sub_ambito=row.sub_ambito)
    if problem:
        raise InvalidData([problem])
    seq = store.record_step(conn, row, step=REASSIGN, actor=principal.username, actor_role=principal.role.value,
                            reason=reason, data={FROM_OWNER: row.owner, TO_OWNER: new_owner}, at=now,
                            owner=new_owner)
    payload = {"case_id": row.id, "case_type": row.case_type, "da_nome": _name(people, row.owner),
               "a_nome": _name(people, new_owner), "coordinatore_nome": _name(people, principal.username),
               "efficace_il": now.isoformat()}
    event = f"{row.case_type}.{REASSIGN}"
    mails = _mail(event, row.id, seq, "caso_riassegnato", target, {**payload, "ceduto": False}, now)
    mails += _mail(event, row.id, seq, "caso_riassegnato", people.get(row.owner or ""), {**payload, "ceduto": True},
                   now)
    insert_outbox(conn, mails)
    return seq


# ----------------------------------------------------------------------------- bulk hand-over


def handover_preview(engine, principal: Principal, worker: str, raw: Mapping[str, Any], *,
                     now: datetime) -> dict[str, Any]:
    """What a hand-over of every open case of `worker` would do: each case with its new owner (the one asked for
    it, else the one for all) and what stands in the way, if anything. Nothing is written."""
    today = _day(now)
    _may_hand_over(principal)
    with reading(engine) as conn:
        people = store.people(conn, [worker, principal.username])
        if worker not in people:
            raise InvalidData([FieldError("assegnatario", "Assistente sociale", f"utente «{worker}» inesistente")])
        refusal = deputy_refusal(principal, people[worker].sub_ambito)
        if refusal:
            raise AccessDenied(refusal)
        rows = [r for r in store.cases_owned_by(conn, worker) if not _terminal(r)
                and handover_refusal(principal, _ref(r, today)) is None]
        for_all = str(raw.get("a_tutti") or "").strip()
        chosen = {int(k): str(v).strip() for k, v in (raw.get("per_caso") or {}).items() if str(v or "").strip()}
        candidates = store.people(conn, [for_all, *chosen.values()])
        names = store.comune_names(conn, (r.comune_istat for r in rows))
    cases = []
    for r in rows:
        new = chosen.get(r.id) or for_all
        target = candidates.get(new)
        problem = reassign_problem(state_terminal=False, owner=r.owner, new_owner=new,
                                   new_owner_role=target.role if target else None,
                                   new_owner_sub_ambito=target.sub_ambito if target else None,
                                   case_sub_ambito=r.sub_ambito) if new else None
        wf = get_workflow(r.case_type)
        cases.append({"caso": r.id, "tipo": r.case_type, "tipo_etichetta": wf.label, "stato": r.state,
                      "stato_etichetta": wf.state(r.state).label, "comune": names.get(r.comune_istat),
                      "persona": _initials(r), "nuovo_assegnatario": new or None,
                      "nuovo_assegnatario_nome": _name(candidates, new) if new else None,
                      "problema": problem.message if problem else ("manca il nuovo assegnatario" if not new else None)})
    return {"assegnatario": worker, "assegnatario_nome": _name(people, worker), "casi": cases,
            "pronto": bool(cases) and all(c["problema"] is None for c in cases)}


def _may_hand_over(principal: Principal) -> None:
    refusal = handover_page_refusal(principal)
    if refusal:
        raise AccessDenied(refusal)


def _initials(row: Any) -> str | None:
    return f"{row.cognome[:1]}. {row.nome[:1]}." if row.cognome and row.nome else None


def handover_confirm(engine, principal: Principal, worker: str, raw: Mapping[str, Any], *,
                     now: datetime) -> list[dict[str, Any]]:
    """Hand over every open case of `worker` as the preview showed it: all or none (one unit of work)."""
    preview = handover_preview(engine, principal, worker, raw, now=now)
    reason = check_reason(raw.get("motivo"))
    if not preview["casi"]:
        raise InvalidData([FieldError("assegnatario", "Assistente sociale",
                                      f"«{preview['assegnatario_nome']}» non ha casi aperti da consegnare")])
    problems = [FieldError(f"per_caso.{c['caso']}", f"Caso n. {c['caso']}", c["problema"])
                for c in preview["casi"] if c["problema"]]
    if problems:
        raise InvalidData(problems)
    done = []
    with writing(engine) as conn:
        for c in preview["casi"]:
            row = store.case_row(conn, c["caso"])
            if row.owner != worker:  # moved since the preview: the whole hand-over is refused, nothing written
                raise InvalidData([FieldError(f"per_caso.{c['caso']}", f"Caso n. {c['caso']}",
                                              "riassegnato nel frattempo: ripetere l'anteprima")])
            seq = _reassign_one(conn, principal, row, c["nuovo_assegnatario"], reason, now)
            done.append({"caso": c["caso"], "nuovo_assegnatario": c["nuovo_assegnatario"], "passo": seq})
    return done


# ----------------------------------------------------------------------------- deputies


def name_deputy(engine, principal: Principal, raw: Mapping[str, Any], *, now: datetime) -> int:
    """Name a deputy (sostituto) for a social worker over [dal, al]; both told by e-mail."""
    _may_hand_over(principal)
    worker = check_required("assegnatario", raw.get("assegnatario"))
    deputy = check_required("sostituto", raw.get("sostituto"))
    period = check_period(raw.get("dal"), raw.get("al"), _day(now))
    with writing(engine) as conn:
        people = store.people(conn, [worker, deputy, principal.username])
        w, d = people.get(worker), people.get(deputy)
        errors = []
        if w is None or w.role != Role.SOCIAL_WORKER.value:
            errors.append(FieldError("assegnatario", LABELS["assegnatario"], f"«{worker}» non è un assistente "
                                                                              "sociale attivo"))
        if d is None or d.role != Role.SOCIAL_WORKER.value or d.username == worker or \
                (w is not None and d.sub_ambito != w.sub_ambito):
            errors.append(FieldError("sostituto", LABELS["sostituto"], f"«{deputy}» non è un altro assistente "
                                                                           "sociale dello stesso sub-ambito"))
        if errors:
            raise InvalidData(errors)
        refusal = deputy_refusal(principal, w.sub_ambito)
        if refusal:
            raise AccessDenied(refusal)
        reason = str(raw.get("motivo") or "").strip() or None
        new_id = store.add_deputyship(conn, {"worker": worker, "deputy": deputy, "dal": period.dal, "al": period.al,
                                             "reason": reason, "named_by": principal.username,
                                             "named_at": now.astimezone(timezone.utc)})
        payload = {"assegnatario_nome": _name(people, worker), "sostituto_nome": _name(people, deputy),
                   "coordinatore_nome": _name(people, principal.username), "dal": period.dal.isoformat(),
                   "al": period.al.isoformat()}
        mails = [m for who in (d, w) for m in _mail("sostituto.nomina", None, new_id, "sostituto_nominato", who,
                                                    payload, now)]
        insert_outbox(conn, mails)
    return new_id


def end_deputy(engine, principal: Principal, deputyship_id: int, *, now: datetime) -> None:
    """End a deputyship today (it stays listed, with who ended it)."""
    _may_hand_over(principal)
    today = _day(now)
    with writing(engine) as conn:
        row = store.deputyship(conn, deputyship_id)
        if row is None:
            raise NotFound(f"sostituzione {deputyship_id} inesistente")
        worker = store.people(conn, [row.worker]).get(row.worker)
        refusal = deputy_refusal(principal, worker.sub_ambito if worker else None)
        if refusal:
            raise AccessDenied(refusal)
        if row.al < today:
            raise InvalidData([FieldError("sostituzione", "Sostituzione", "la sostituzione è già conclusa")])
        store.end_deputyship(conn, deputyship_id, last_day=today - timedelta(days=1), by=principal.username, at=now)


def deputies(engine, principal: Principal, *, now: datetime) -> list[dict[str, Any]]:
    """The deputyships of the coordinator's sub-ambito not over yet (the UdP: the whole district)."""
    if principal.role not in (Role.SUBAREA_COORDINATOR, Role.PLANNING_OFFICE):
        raise AccessDenied(deputy_refusal(principal, None) or "")
    today = _day(now)
    area = principal.sub_ambito if principal.role is Role.SUBAREA_COORDINATOR else None
    with reading(engine) as conn:
        rows = store.deputyships(conn, sub_ambito=area, from_day=today)
        people = store.people(conn, [x for r in rows for x in (r.worker, r.deputy)])
    return [{"id": r.id, "assegnatario": r.worker, "assegnatario_nome": _name(people, r.worker),
             "sostituto": r.deputy, "sostituto_nome": _name(people, r.deputy), "dal": r.dal.isoformat(),
             "al": r.al.isoformat(), "in_corso": r.dal <= today <= r.al, "motivo": r.reason,
             "nominato_da": r.named_by} for r in rows]


def with_deputyships(engine, principal: Principal, day: date) -> Principal:
    """`principal` with the workers they stand in for on `day` (a social worker only; others as they are)."""
    if principal.role is not Role.SOCIAL_WORKER:
        return principal
    def read() -> frozenset[str]:
        with reading(engine) as conn:
            return store.represented_by(conn, principal.username, day)

    represents = remembered(("deputyships", principal.username, day), read)  # once per page
    return dataclasses.replace(principal, represents=represents) if represents else principal


# ----------------------------------------------------------------------------- transfers


def transfer(engine, principal: Principal, case_id: int, raw: Mapping[str, Any], *, now: datetime) -> int:
    """Move the case to a comune of another sub-ambito: its comune and scope change (the old sub-ambito loses
    it, the new one gains it, unassigned for its coordinator to assign), the history stays; both coordinators
    (and the worker who had it) told by e-mail."""
    with writing(engine) as conn:
        row = store.case_row(conn, case_id)
        refusal = transfer_refusal(principal, _ref(row, _day(now)))
        if refusal:
            raise AccessDenied(refusal)
        reason = check_reason(raw.get("motivo"))
        wanted = check_required("nuovo_comune", raw.get("nuovo_comune"))
        target = store.find_comune(conn, wanted)
        problem = transfer_problem(state_terminal=_terminal(row), comune=row.comune_istat,
                                   new_comune=target.istat if target else wanted,
                                   sub_ambito=row.sub_ambito, new_sub_ambito=target.sub_ambito if target else None)
        if problem:
            raise InvalidData([problem])
        seq = store.record_step(conn, row, step=TRANSFER, actor=principal.username,
                                actor_role=principal.role.value, reason=reason, at=now, comune=target.istat,
                                clear_owner=bool(row.owner),
                                data={FROM_COMUNE: row.comune_istat, TO_COMUNE: target.istat,
                                      FROM_OWNER: row.owner})
        old, new = store.coordinators_of(conn, row.sub_ambito), store.coordinators_of(conn, target.sub_ambito)
        people = store.people(conn, [principal.username, row.owner or ""])
        names = store.comune_names(conn, [row.comune_istat, target.istat])
        payload = {"case_id": row.id, "case_type": row.case_type, "comune_da": names.get(row.comune_istat),
                   "comune_a": target.nome, "sub_ambito_da": row.sub_ambito, "sub_ambito_a": target.sub_ambito,
                   "autore_nome": _name(people, principal.username), "efficace_il": now.isoformat()}
        event = f"{row.case_type}.{TRANSFER}"
        givers = [*old, *([people[row.owner]] if row.owner in people else [])]
        mails = [m for who in givers for m in _mail(event, row.id, seq, "caso_trasferito", who,
                                                    {**payload, "ceduto": True}, now)]
        mails += [m for who in new for m in _mail(event, row.id, seq, "caso_trasferito", who,
                                                  {**payload, "ceduto": False}, now)]
        insert_outbox(conn, mails)
        return seq


# ----------------------------------------------------------------------------- what the pages offer


def choices(engine, principal: Principal, *, case_sub_ambito: str | None = None) -> dict[str, Any]:
    """The social workers a case (of `case_sub_ambito`, else of the user's sub-ambito) may go to, and the comuni
    of the other sub-ambiti it may be transferred to."""
    from store import reference, users

    area = case_sub_ambito or principal.sub_ambito
    workers = users.users(engine, role=Role.SOCIAL_WORKER.value, sub_ambito=area, order="full_name") if area else []
    return {"assistenti": [(w.username, w.full_name or w.username) for w in workers],
            "comuni": [(c.istat, c.nome, c.sub_ambito) for c in reference.comuni(engine) if c.sub_ambito != area]}


def case_handover_options(engine, principal: Principal, case_id: int, *, now: datetime) -> dict[str, Any]:
    """What `principal` may do on the case's «Passaggio» page: reassign and/or transfer (AccessDenied if neither)."""
    with reading(engine) as conn:
        row = store.case_row(conn, case_id)
    ref = _ref(row, _day(now))
    may_reassign, may_transfer = handover_refusal(principal, ref), transfer_refusal(principal, ref)
    if may_reassign and may_transfer:
        raise AccessDenied(may_reassign)
    return {"caso": row, "riassegna": may_reassign is None, "trasferisci": may_transfer is None,
            "aperto": not _terminal(row), **choices(engine, principal, case_sub_ambito=row.sub_ambito)}
