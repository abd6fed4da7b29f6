"""Queries behind the case pages: the scoped list with search, the names shown in it, the choices a form
offers (comuni, social workers of a sub-ambito, providers serving a comune, open FNA calls), and the case
types a user may open.

Every list goes through `services.access.scoped_filter`: the search is one more condition on top of the
user's scope, so a user never finds a case they may not read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.access import openable as access_openable
from domain.access import CaseRef, FieldClass, Principal, is_minor, visible_fields
from domain.casetype import ParentLink
from domain.registry import all_workflows
from domain.workflow import Role, Transition, Workflow
from services.access import scoped_filter
from services.queries import CaseFilter, CasePage, page_of_cases
from store import case_reads, reference, users


def search_condition(q: str) -> sa.ColumnElement[bool] | None:
    """Cases whose person matches every word of `q` in surname, name or codice fiscale."""
    return case_reads.person_search([w for w in q.split() if w])


def scoped_cases(engine: Engine, principal: Principal, f: CaseFilter, *, q: str = "",
                 today: date) -> list[dict[str, Any]]:
    """`list_cases` within the user's scope (and the search, if any), with the person's name where the
    user may see identity data."""
    return scoped_page(engine, principal, f, q=q, today=today, count=False).rows


def scoped_page(engine: Engine, principal: Principal, f: CaseFilter, *, q: str = "", today: date,
                count: bool = True) -> CasePage:
    """One page of the cases within the user's scope (and the search, if any), with its true total and the
    next page's key; the person's name where the user may see identity data."""
    scope = scoped_filter(principal, today=today)
    found = search_condition(q or "")
    if found is not None:
        scope = sa.and_(scope, found)
    page = page_of_cases(engine, f, today=today, scope=scope, count=count)
    names = people_of(engine, principal, [r["id"] for r in page.rows], today=today)
    for r in page.rows:
        r["persona"] = names.get(r["id"])
    return page


def people_of(engine: Engine, principal: Principal, case_ids: list[int], *, today: date) -> dict[int, dict[str, str]]:
    """{case id: {cognome, nome, codice_fiscale}} for the cases whose identity data the user may see."""
    if not case_ids:
        return {}
    out: dict[int, dict[str, str]] = {}
    for r in case_reads.people_with_keys(engine, case_ids):
        ref = CaseRef(r.case_type, r.comune_istat, r.sub_ambito, r.owner, r.provider_codice,
                      is_minor(r.data_nascita, today), r.state)
        if FieldClass.IDENTITY in visible_fields(principal, ref):
            out[r.id] = {"cognome": r.cognome, "nome": r.nome, "codice_fiscale": r.codice_fiscale}
    return out


@dataclass(frozen=True)
class AssignmentStep:
    workflow: Workflow
    transition: Transition
    states: tuple[str, ...]


def assignment_steps(principal: Principal) -> list[AssignmentStep]:
    """The transitions that assign an owner which this user's role may fire (e.g. the patto's "assegna")."""
    return [AssignmentStep(wf, t, t.sources) for wf in all_workflows() for t in wf.transitions
            if t.assigns_owner and principal.role in t.roles and t.sources]


def waiting_for_assignment(engine: Engine, principal: Principal, *, today: date) -> list[dict[str, Any]]:
    """Cases in the user's scope waiting for the assignment this user makes (a coordinator's queue)."""
    rows: list[dict[str, Any]] = []
    for step in assignment_steps(principal):
        for state in step.states:
            found = scoped_cases(engine, principal, CaseFilter(case_type=step.workflow.case_type, state=state),
                                 today=today)
            for r in found:
                r["tipo_etichetta"] = step.workflow.label
                r["transizione"] = step.transition.name
            rows.extend(found)
    return sorted(rows, key=lambda r: r["id"])


# ----------------------------------------------------------------------------- choices for forms


def comuni(engine: Engine, principal: Principal | None = None) -> list[tuple[str, str, str]]:
    """(istat, nome, sub-ambito) of the comuni a user works in (all the district's if not tied to an area)."""
    only = principal.comuni if principal is not None and principal.comuni else None
    return [(c.istat, c.nome, c.sub_ambito) for c in reference.comuni(engine, only=only)]


def social_workers(engine: Engine, sub_ambito: str | None) -> list[tuple[str, str]]:
    """(username, "Nome Cognome (username)") of the active social workers of a sub-ambito."""
    if not sub_ambito:
        return []
    return [(u.username, f"{u.full_name} ({u.username})")
            for u in users.users(engine, role=Role.SOCIAL_WORKER.value, sub_ambito=sub_ambito, order="full_name")]


def providers_for(engine: Engine, comune_istat: str | None) -> list[tuple[str, str]]:
    """(codice, nome) of the providers serving a comune (all of them if the comune is unknown)."""
    rows = reference.providers(engine, by_name=True)
    return [(p.codice, f"{p.nome} ({p.codice})") for p in rows if comune_istat is None or comune_istat in p.comuni]


def open_parents(engine: Engine, link: ParentLink) -> list[tuple[str, str]]:
    """(id, title) of the cases a new case of a linked type may be opened on (e.g. the open FNA calls)."""
    return [(str(r.id), f"{(r.data or {}).get('titolo', link.label)} (n. {r.id})")
            for r in case_reads.cases_in_states(engine, link.case_type, link.states)]


def sub_ambito_of(engine: Engine, comune_istat: str | None) -> str | None:
    return reference.sub_ambito_of(engine, comune_istat)


# ----------------------------------------------------------------------------- opening


def openable(principal: Principal) -> list[tuple[Workflow, Transition]]:
    """The case types (and their opening transition) this user may open from the new-referral page."""
    return access_openable(principal.role)


def case_keys(engine: Engine, case_id: int) -> dict[str, Any]:
    """Type, comune and sub-ambito of a case (no personal data); NotFound if there is no such case."""
    from domain.errors import NotFound

    row = case_reads.case_keys(engine, case_id)
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return {"tipo": row.case_type, "comune_istat": row.comune_istat, "sub_ambito": row.sub_ambito}


def case_type_of(engine: Engine, case_id: int) -> str:
    return case_keys(engine, case_id)["tipo"]
