"""Queries behind the case pages: the scoped list with search, the names shown in it, the choices a form
offers (comuni, social workers of a sub-ambito, providers serving a comune, open FNA calls), and the case
types a user may open.

Every list goes through `services.access.scoped_filter`: the search is one more condition on top of the
user's scope, so a user never finds a case they may not read.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.access import openable as access_openable
from domain.access import CaseRef, FieldClass, Principal, is_minor, visible_fields
from domain.casetype import ParentLink
from domain.identity import matches
from domain.registry import all_workflows
from domain.workflow import Role, Transition, Workflow
from services.access import scoped_filter
from services.queries import CaseFilter, CasePage, ListKey, page_of_cases
from services.referral import people_views
from store import case_reads, reference, users


def search_condition(q: str) -> sa.ColumnElement[bool] | None:
    """Cases whose person matches every word of `q` in surname, name or codice fiscale, as stored or as typed at
    a referral (the candidates: `scoped_cases` keeps those matching an identity the reader may know)."""
    return case_reads.person_search(q.split())


SEARCH_MAX = 1000  # a search's candidates, paged in memory once the reader's own identities are matched


def scoped_cases(engine: Engine, principal: Principal, f: CaseFilter, *, q: str = "",
                 today: date) -> list[dict[str, Any]]:
    """`scoped_page`'s rows (one page, no total)."""
    return scoped_page(engine, principal, f, q=q, today=today, count=False).rows


def scoped_page(engine: Engine, principal: Principal, f: CaseFilter, *, q: str = "", today: date,
                count: bool = True) -> CasePage:
    """One page of the cases within the user's scope (and the search, if any), with its true total and the
    keys of the pages around it; the person as the user may know them (DOMAIN.md §13 "Out of scope": the name
    typed at a referral by whoever knows only that, the stored one with any differing name typed at a referral
    as a discrepancy to resolve by whoever knows the stored one), where the user may see identity data.

    A search finds a case only by an identity its reader may know: its candidates (at most SEARCH_MAX) are
    matched here, then paged in memory with the same keys, so its total is exact too."""
    words = (q or "").split()
    scope = scoped_filter(principal, today=today)
    found = search_condition(q or "")
    if found is not None:
        scope = sa.and_(scope, found)
    if not words:
        page = page_of_cases(engine, f, today=today, scope=scope, count=count)
        _with_people(engine, principal, page.rows, today)
        return page
    every = page_of_cases(engine, replace(f, limit=SEARCH_MAX, after=None, before=None), today=today, scope=scope,
                          count=False)
    people = _with_people(engine, principal, every.rows, today)
    kept = [(r, k) for r, k in zip(every.rows, every.keys)
            if any(matches(words, i) for i in people.get(r["id"], {}).get("identita_note", []))]
    return page_in_memory(kept, f)


def page_in_memory(rows: list[tuple[dict[str, Any], ListKey]], f: CaseFilter) -> CasePage:
    """`f`'s page (after/before its key, `f.limit` rows) of rows already in the list's order, with their keys."""
    keys = [k for _, k in rows]
    if f.after is not None:
        start = next((i for i, k in enumerate(keys) if _order(k) > _order(f.after)), len(keys))
    elif f.before is not None:
        end = next((i for i, k in enumerate(keys) if _order(k) >= _order(f.before)), len(keys))
        start = max(end - f.limit, 0)
    else:
        start = 0
    chosen = rows[start:start + f.limit]
    after_end = start + f.limit < len(rows)
    return CasePage([r for r, _ in chosen], len(rows), chosen[-1][1] if chosen and after_end else None,
                    chosen[0][1] if chosen and start > 0 else None, [k for _, k in chosen])


def _order(key: ListKey) -> tuple:
    return (key.no_person, key.due, key.id)


def _with_people(engine: Engine, principal: Principal, rows: list[dict[str, Any]], today: date) -> dict:
    people = people_of(engine, principal, [r["id"] for r in rows], today=today)
    for r in rows:
        view = people.get(r["id"], {})
        r["persona"] = view.get("persona")
        r["discrepanze_anagrafiche"] = view.get("discrepanze_anagrafiche", [])
    return people


def people_of(engine: Engine, principal: Principal, case_ids: list[int], *, today: date) -> dict[int, dict[str, Any]]:
    """{case id: the person as the user may know them (`services.referral.people_views`)} for the cases whose
    identity data the user may see."""
    if not case_ids:
        return {}
    visible = []
    for r in case_reads.people_with_keys(engine, case_ids):
        ref = CaseRef(r.case_type, r.comune_istat, r.sub_ambito, r.owner, r.provider_codice,
                      is_minor(r.data_nascita, today), r.state, ambito=r.ambito_code)
        if FieldClass.IDENTITY in visible_fields(principal, ref):
            visible.append(r)
    return people_views(engine, principal, visible, today=today)


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
    """Cases in the user's scope waiting for the assignment this user makes (a coordinator's queue), the oldest
    first, each with its nearest deadline and the step that assigns it."""
    rows: list[dict[str, Any]] = []
    for step in assignment_steps(principal):
        for state in step.states:
            found = scoped_cases(engine, principal, CaseFilter(case_type=step.workflow.case_type, state=state),
                                 today=today)
            for r in found:
                r["tipo_etichetta"] = step.workflow.label
                r["transizione"] = step.transition.name
                r["passo"] = step.transition.label
            rows.extend(found)
    return sorted(rows, key=lambda r: (r["aperto_il"], r["id"]))


def assigned_states(wf: Workflow) -> frozenset[str]:
    """The states a case of `wf` is in right after a step gave it an owner (e.g. the patto's "Presa in carico")."""
    return frozenset(t.target for t in wf.transitions if t.assigns_owner)


def newly_assigned(engine: Engine, principal: Principal, *, today: date) -> list[dict[str, Any]]:
    """The cases assigned to this user that still wait for her first step: hers, in a state an assignment leads
    to (whatever the case type declares), the nearest deadline first; each with the steps she takes next."""
    if principal.role is not Role.SOCIAL_WORKER:
        return []
    rows: list[dict[str, Any]] = []
    for wf in all_workflows():
        for state in sorted(assigned_states(wf)):
            found = scoped_cases(engine, principal, CaseFilter(case_type=wf.case_type, state=state,
                                                               owner=principal.username), today=today)
            for r in found:
                r["tipo_etichetta"] = wf.label
                r["passi"] = [t.label for t in wf.transitions_from(state, r["tipologia"])
                              if principal.role in t.roles and not wf.is_secondary(t)]
            rows.extend(found)
    return sorted(rows, key=lambda r: (r["prossima_scadenza"] or "9999", r["id"]))


# ----------------------------------------------------------------------------- choices for forms


def comuni(engine: Engine, principal: Principal | None = None) -> list[tuple[str, str, str]]:
    """(istat, nome, sub-ambito) of the comuni a user works in: their area's, else their Ambito's (in an instance of
    several Ambiti the others' comuni are not theirs: a region offered all 1,526), else all the instance's."""
    only = None
    if principal is not None:
        only = principal.comuni or (principal.ambito.comuni if principal.ambito is not None else None) or None
    return [(c.istat, c.nome, c.sub_ambito) for c in reference.comuni(engine, only=only)]


def social_workers(engine: Engine, sub_ambito: str | None) -> list[tuple[str, str]]:
    """(username, "Nome Cognome") of the active social workers of a sub-ambito."""
    if not sub_ambito:
        return []
    return [(u.username, u.full_name or u.username)
            for u in users.users(engine, role=Role.SOCIAL_WORKER.value, sub_ambito=sub_ambito, order="full_name")]


def providers_for(engine: Engine, comune_istat: str | None) -> list[tuple[str, str]]:
    """(codice, nome) of the providers serving a comune (all of them if the comune is unknown)."""
    if comune_istat is not None:
        return reference.providers_serving(engine, comune_istat)
    return [(p.codice, p.nome) for p in reference.providers(engine, by_name=True)]


def open_parents(engine: Engine, link: ParentLink) -> list[tuple[str, str]]:
    """(id, title) of the cases a new case of a linked type may be opened on (e.g. the open FNA calls)."""
    return [(str(r.id), f"{(r.data or {}).get('titolo', link.label)} (n. {r.id})")
            for r in case_reads.cases_in_states(engine, link.case_type, link.states)]


def display_names(engine: Engine, usernames: Iterable[str | None]) -> dict[str, str]:
    """{username: full name} of the people a page names (usernames stay for the administrator's pages). Within
    a page's request (services.request_memo) each name is read once: the pointer and the history share them."""
    return _named("user", [u for u in usernames if u], lambda missing: users.full_names(engine, missing))


def provider_names(engine: Engine, codes: Iterable[str | None] | None = None) -> dict[str, str]:
    """{codice: nome} of the accredited providers (pages name providers, not their codes); `codes`: only those
    (each read once within a page's request, as `display_names`)."""
    if codes is None:
        return reference.provider_names(engine, None)
    return _named("provider", [c for c in codes if c], lambda missing: reference.provider_names(engine, missing))


def _named(kind: str, keys: list[str], read: Any) -> dict[str, str]:
    from services.request_memo import remembered

    known: dict[str, str | None] = remembered(("names", kind), dict)  # outside a request: a new dict each call
    missing = sorted({k for k in keys if k not in known})
    if missing:
        found = read(missing)
        known.update({k: found.get(k) for k in missing})  # None: no such user or provider, not asked again
    return {k: name for k in keys if (name := known.get(k)) is not None}


def providers_named(detail: dict[str, Any]) -> set[str]:
    """The provider codes a case page names: the case's provider and the `ente` of its data and of each step."""
    found = {detail.get("ente"), (detail.get("dati") or {}).get("ente")}
    found |= {(h.get("dati") or {}).get("ente") for h in detail.get("storia") or ()}
    return {c for c in found if isinstance(c, str) and c}


def sub_ambito_of(engine: Engine, comune_istat: str | None) -> str | None:
    return reference.sub_ambito_of(engine, comune_istat)


# ----------------------------------------------------------------------------- opening


def openable(principal: Principal) -> list[tuple[Workflow, Transition]]:
    """The case types (and their opening transition) this user may open from the new-referral page."""
    return access_openable(principal.role)


def case_keys(engine: Engine, case_id: int) -> dict[str, Any]:
    """Type, comune and sub-ambito of a case (no personal data); NotFound if there is no such case."""
    from domain.errors import NotFound

    from services.request_memo import remembered

    row = remembered(("case_keys", case_id), lambda: case_reads.case_keys(engine, case_id))  # once per page
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return {"tipo": row.case_type, "comune_istat": row.comune_istat, "sub_ambito": row.sub_ambito}


def case_type_of(engine: Engine, case_id: int) -> str:
    return case_keys(engine, case_id)["tipo"]
