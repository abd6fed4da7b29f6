"""The read side: case detail (state, history, deadlines, next transitions), lists and summaries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.engine import allowed_transitions
from domain.italian import ROME
from domain.registry import get_workflow
from domain.workflow import ROLE_LABELS, Role
from store.cases import _aware, load_case
from store.tables import Comune, Person, case_t, deadline_t, transition_t

LIVE = ("open", "paused")


@dataclass(frozen=True)
class CaseFilter:
    case_type: str | None = None
    state: str | None = None
    comune: str | None = None
    sub_ambito: str | None = None
    overdue: bool = False
    owner: str | None = None
    limit: int = 200
    by_due: bool = False  # people's cases first, the nearest (or most overdue) deadline first; else by id


def case_detail(engine: Engine, case_id: int, *, role: Role | None = None, today: date | None = None) -> dict[str, Any]:
    today = today or date.today()
    with engine.connect() as conn:
        case = load_case(conn, case_id)
        history = conn.execute(
            sa.select(transition_t).where(transition_t.c.case_id == case_id).order_by(transition_t.c.seq)
        ).all()
        deadlines = conn.execute(
            sa.select(deadline_t).where(deadline_t.c.case_id == case_id).order_by(deadline_t.c.due, deadline_t.c.id)
        ).all()
        person = conn.execute(
            sa.select(Person.__table__).join(case_t, case_t.c.person_id == Person.__table__.c.id)
            .where(case_t.c.id == case_id)
        ).first()
        comune = conn.execute(
            sa.select(Comune.__table__).where(Comune.__table__.c.istat == case.comune_istat)
        ).first() if case.comune_istat else None
        outcome = conn.execute(sa.select(case_t.c.outcome, case_t.c.outcome_reason).where(case_t.c.id == case_id)).one()
    wf = get_workflow(case.case_type)
    return {
        "id": case.id,
        "tipo": wf.case_type,
        "tipo_etichetta": wf.label,
        "tipologia": case.kind,
        "stato": case.state,
        "stato_etichetta": wf.state(case.state).label,
        "terminale": wf.state(case.state).terminal,
        "comune": comune.nome if comune else None,
        "comune_istat": case.comune_istat,
        "sub_ambito": comune.sub_ambito if comune else None,
        "persona": {"cognome": person.cognome, "nome": person.nome, "codice_fiscale": person.codice_fiscale}
        if person else None,
        "assegnatario": case.owner,
        "ente": case.provider_codice,
        "caso_collegato": case.related_case_id,
        "versione_politica": case.policy_version,
        "aperto_il": case.opened_on.isoformat(),
        "esito": outcome.outcome,
        "motivo_esito": outcome.outcome_reason,
        "versione": case.version,
        "dati": dict(case.data),
        "storia": [_history_row(wf, h) for h in history],
        "scadenze": [_deadline_row(d, today) for d in deadlines],
        "prossime_transizioni": [
            {"transizione": t.name, "etichetta": t.label, "ruoli": sorted(ROLE_LABELS[r] for r in t.roles)}
            for t in allowed_transitions(wf, case.state, role, case.kind)
        ],
    }


def _history_row(wf, h) -> dict[str, Any]:
    return {
        "seq": h.seq,
        "transizione": h.transition,
        "etichetta": wf.transition(h.transition).label if wf.transition(h.transition) else h.transition,
        "da": h.from_state,
        "a": h.to_state,
        "attore": h.actor,
        "ruolo": h.actor_role,
        "registrato_il": _aware(h.recorded_at).astimezone(ROME).isoformat(timespec="seconds"),
        "efficace_il": _aware(h.effective_at).astimezone(ROME).isoformat(timespec="seconds"),
        "motivo": h.reason,
        "dati": h.data,
    }


def _deadline_row(d, today: date) -> dict[str, Any]:
    return {
        "tipo": d.kind,
        "etichetta": d.label,
        "scadenza": d.due.isoformat(),
        "base": d.basis,
        "fonte": d.source,
        "stato": d.status,
        "chiusa_il": d.closed_on.isoformat() if d.closed_on else None,
        "in_ritardo": d.status == "open" and d.due < today,
        "rispettata": (d.closed_on <= d.due) if d.status == "met" and d.closed_on else None,
        "giorni_sospensione": d.suspended_days,
    }


def list_cases(engine: Engine, f: CaseFilter, *, today: date | None = None,
               scope: sa.ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The cases matching `f`; `scope` (services.access.scoped_filter) limits them to what a user may read."""
    today = today or date.today()
    c = Comune.__table__
    next_due = (
        sa.select(sa.func.min(deadline_t.c.due))
        .where(deadline_t.c.case_id == case_t.c.id, deadline_t.c.status == "open")
        .scalar_subquery()
    )
    q = (
        sa.select(case_t.c.id, case_t.c.case_type, case_t.c.kind, case_t.c.state, case_t.c.comune_istat,
                  c.c.nome.label("comune"), c.c.sub_ambito, case_t.c.owner, case_t.c.opened_at,
                  next_due.label("prossima_scadenza"))
        .select_from(case_t.outerjoin(c, c.c.istat == case_t.c.comune_istat))
        .order_by(*((case_t.c.person_id.is_(None), next_due.is_(None), next_due, case_t.c.id) if f.by_due
                    else (case_t.c.id,)))
        .limit(f.limit)
    )
    if scope is not None:
        q = q.where(scope)
    if f.case_type:
        q = q.where(case_t.c.case_type == f.case_type)
    if f.state:
        q = q.where(case_t.c.state == f.state)
    if f.comune:
        q = q.where(sa.or_(case_t.c.comune_istat == f.comune, sa.func.lower(c.c.nome) == f.comune.lower()))
    if f.sub_ambito:
        q = q.where(sa.func.lower(c.c.sub_ambito) == f.sub_ambito.lower())
    if f.owner:
        q = q.where(case_t.c.owner == f.owner)
    if f.overdue:
        q = q.where(sa.exists().where(deadline_t.c.case_id == case_t.c.id, deadline_t.c.status == "open",
                                      deadline_t.c.due < today))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        {
            "id": r.id, "tipo": r.case_type, "tipologia": r.kind, "stato": r.state,
            "stato_etichetta": get_workflow(r.case_type).state(r.state).label,
            "comune": r.comune, "sub_ambito": r.sub_ambito, "assegnatario": r.owner,
            "aperto_il": _aware(r.opened_at).astimezone(ROME).date().isoformat(),
            "prossima_scadenza": r.prossima_scadenza.isoformat() if r.prossima_scadenza else None,
            "in_ritardo": bool(r.prossima_scadenza and r.prossima_scadenza < today),
        }
        for r in rows
    ]


def summary_by_type_and_state(engine: Engine) -> list[dict[str, Any]]:
    q = (
        sa.select(case_t.c.case_type, case_t.c.state, sa.func.count().label("n"))
        .group_by(case_t.c.case_type, case_t.c.state)
        .order_by(case_t.c.case_type, case_t.c.state)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        {"tipo": r.case_type, "tipo_etichetta": get_workflow(r.case_type).label, "stato": r.state,
         "stato_etichetta": get_workflow(r.case_type).state(r.state).label, "casi": r.n}
        for r in rows
    ]
