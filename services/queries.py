"""The read side: case detail (state, history, deadlines, next transitions), lists and summaries."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.engine import allowed_transitions
from domain.handover import STEP_LABELS
from domain.italian import ROME
from domain.registry import get_workflow
from domain.workflow import ROLE_LABELS, Role
from store import case_queries, case_reads
from store.case_queries import CaseFilter, ListKey  # noqa: F401  (the filter of list_cases, re-exported)
from store.cases import _aware

LIVE = ("open", "paused")


def case_detail(engine: Engine, case_id: int, *, role: Role | None = None, today: date | None = None,
                health: bool = True) -> dict[str, Any]:
    """The whole stored case; `health` False leaves the sealed health data unread (not decrypted)."""
    today = today or date.today()
    record = case_queries.case_record(engine, case_id, health=health)
    case, comune, person = record.case, record.comune, record.person
    wf = get_workflow(case.case_type)
    sealed = {"dati_sanitari_sigillati": True} if record.sealed_unread else {}  # redaction says so (access.py)
    return {
        **sealed,
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
        "esito": record.outcome,
        "motivo_esito": record.outcome_reason,
        "versione": case.version,
        "dati": dict(case.data),
        "storia": [_history_row(wf, h) for h in record.history],
        "scadenze": [_deadline_row(d, today) for d in record.deadlines],
        "prossime_transizioni": [
            {"transizione": t.name, "etichetta": t.label, "ruoli": sorted(ROLE_LABELS[r] for r in t.roles)}
            for t in allowed_transitions(wf, case.state, role, case.kind)
        ],
    }


def _history_row(wf, h) -> dict[str, Any]:
    return {
        "seq": h.seq,
        "transizione": h.transition,
        "etichetta": wf.transition(h.transition).label if wf.transition(h.transition)
        else STEP_LABELS.get(h.transition, h.transition),
        "da": h.from_state,
        "a": h.to_state,
        "attore": h.actor,
        "ruolo": h.actor_role,
        "registrato_il": _aware(h.recorded_at).astimezone(ROME).isoformat(timespec="seconds"),
        "efficace_il": _aware(h.effective_at).astimezone(ROME).isoformat(timespec="seconds"),
        "motivo": h.reason,
        "dati": h.data,
        "per_conto_di": getattr(h, "on_behalf_of", None),  # a deputy's act: the absent owner (domain/handover.py)
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
    return page_of_cases(engine, f, today=today, scope=scope, count=False).rows


@dataclass(frozen=True)
class CasePage:
    rows: list[dict[str, Any]]
    total: int | None  # every matching case, all pages together (None: not counted)
    next_key: ListKey | None  # where the next page starts; None on the last page
    previous_key: ListKey | None  # where the previous page ends; None on the first page
    keys: list[ListKey] = field(default_factory=list)  # each row's key, in the rows' order


def page_of_cases(engine: Engine, f: CaseFilter, *, today: date | None = None,
                  scope: sa.ColumnElement[bool] | None = None, count: bool = True) -> CasePage:
    """One page of the cases matching `f` (keyset: `f.after`, `f.limit`), the true total and the next page's key."""
    today = today or date.today()
    total = case_queries.case_count(engine, f, today=today, scope=scope) if count else None
    rows = case_queries.case_rows(engine, replace(f, limit=f.limit + 1), today=today, scope=scope, listed=total)
    backwards = f.before is not None and f.after is None
    more = len(rows) > f.limit  # one row beyond the page: there is a page after it (before it, backwards)
    if backwards:
        rows = rows[-f.limit:]
        if not rows:  # nothing before the key: the first page
            return page_of_cases(engine, replace(f, before=None), today=today, scope=scope, count=count)
    else:
        rows = rows[:f.limit]
    following = more if not backwards else True
    preceding = (f.after is not None) if not backwards else more
    out = [
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
    return CasePage(out, total, case_queries.list_key(rows[-1]) if following and rows else None,
                    case_queries.list_key(rows[0]) if preceding and rows else None,
                    [case_queries.list_key(r) for r in rows])


def summary_by_type_and_state(engine: Engine) -> list[dict[str, Any]]:
    return [
        {"tipo": r.case_type, "tipo_etichetta": get_workflow(r.case_type).label, "stato": r.state,
         "stato_etichetta": get_workflow(r.case_type).state(r.state).label, "casi": r.n}
        for r in case_reads.count_by_type_and_state(engine)
    ]
