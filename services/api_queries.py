"""Read-side queries the REST API needs beyond services/queries.py: declarations as data, a case's deadlines,
a user's open deadlines within their scope and the state after a step (the indicators: services/dashboard.py).

Scope is never decided here: callers pass `scoped_filter(principal)` or have authorised the case already.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.access import Principal
from domain.errors import NotFound
from domain.registry import all_workflows, get_workflow
from domain.workflow import Role, Workflow
from services.queries import _deadline_row
from store import case_queries


def case_types() -> list[dict[str, Any]]:
    """Every declared case type: states, transitions (with roles) and labels."""
    return [describe_workflow(wf) for wf in sorted(all_workflows(), key=lambda w: w.case_type)]


def describe_workflow(wf: Workflow) -> dict[str, Any]:
    return {
        "tipo": wf.case_type,
        "etichetta": wf.label,
        "descrizione": wf.description,
        "distrettuale": wf.district_level and not wf.has_person,
        "tipologie": [{"codice": code, "etichetta": label} for code, label in wf.kinds],
        "stati": [{"nome": s.name, "etichetta": s.label, "terminale": s.terminal, "sospeso": s.suspended}
                  for s in wf.states],
        "transizioni": [
            {"nome": t.name, "etichetta": t.label, "da": list(t.sources), "a": t.target,
             "ruoli": sorted(r.value for r in t.roles), "apertura": t.opening,
             "richiede_motivo": t.requires_reason, "automatica": t.automatic}
            for t in wf.transitions
        ],
    }


def transition_offers(case_type: str, names: list[str]) -> list[dict[str, Any]]:
    """The transitions `names` of a case type with the JSON Schema of the data each one asks for."""
    wf = get_workflow(case_type)
    out = []
    for name in names:
        t = wf.transition(name)
        if t is None:
            continue
        out.append({"nome": t.name, "etichetta": t.label, "a": t.target, "a_etichetta": wf.state(t.target).label,
                    "richiede_motivo": t.requires_reason,
                    "schema_dati": t.data.model_json_schema() if t.data is not None else None})
    return out


def case_state(engine: Engine, case_id: int) -> dict[str, Any]:
    """Type, state and version of a case (nothing personal): what a command answers with."""
    row = case_queries.case_state(engine, case_id)
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return {"id": case_id, "tipo": row.case_type, "stato": row.state,
            "stato_etichetta": get_workflow(row.case_type).state(row.state).label, "versione": row.version}


def case_deadlines(engine: Engine, case_id: int, today: date) -> list[dict[str, Any]]:
    """Every deadline of a case, earliest first (the caller has authorised the read)."""
    return [_deadline_row(d, today) for d in case_queries.case_deadlines(engine, case_id)]


def open_deadlines(engine: Engine, principal: Principal, scope: sa.ColumnElement[bool], *, today: date,
                   within_days: int, overdue_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The open deadlines a user answers for, overdue or due within `within_days`, among the cases in `scope`.

    A social worker answers for the cases assigned to her and for the unassigned ones of her comuni; the other
    roles for every case in their scope.
    """
    until = today - timedelta(days=1) if overdue_only else today + timedelta(days=within_days)
    owners = (principal.username, *sorted(principal.represents))  # a deputy answers for the absent worker's too
    mine = (owners, principal.comuni) if principal.role is Role.SOCIAL_WORKER else None
    rows = case_queries.open_deadline_rows(engine, scope, until=until, limit=limit, owner_or_unassigned_in=mine,
                                           ambito=principal.ambito)
    return [
        {"id": r.id, "caso": r.case_id, "tipo_caso": r.case_type, "stato_caso": r.state, "comune": r.comune,
         "assegnatario": r.owner, "tipo": r.kind, "etichetta": r.label, "scadenza": r.due, "fonte": r.source,
         "in_ritardo": r.due < today, "giorni": (r.due - today).days}
        for r in rows
    ]
