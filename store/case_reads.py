"""Case reads for access and the pages: a case's authorisation keys, ids and counts within a scope, the people
behind a list of cases, the cases a new one may be opened on.

`scope` arguments are SQL conditions over `case_file` (services.access.scoped_filter builds them from the one
access decision); nothing here decides who may see what.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from store.tables import Comune, case_t, person_discrepancy_t, person_t, transition_t
from store.uow import Bind, reading

comune_t = Comune.__table__


def case_keys(bind: Bind, case_id: int) -> Any | None:
    """(case_type, comune_istat, owner, provider_codice, state, sub_ambito, data_nascita, kind, ambito_code) of a
    case, or None."""
    with reading(bind) as conn:
        return conn.execute(_CASE_KEYS, {"case_id": case_id}).first()


def _case_keys() -> sa.Select:
    c = case_t.c
    return (sa.select(c.case_type, c.comune_istat, c.owner, c.provider_codice, c.state, comune_t.c.sub_ambito,
                      person_t.c.data_nascita, c.kind, c.ambito_code)
            .select_from(case_t.outerjoin(comune_t, comune_t.c.istat == c.comune_istat)
                         .outerjoin(person_t, person_t.c.id == c.person_id))
            .where(c.id == sa.bindparam("case_id")))


_CASE_KEYS = _case_keys()  # built once: every case read and every step authorises on it


def case_ids(bind: Bind, scope: sa.ColumnElement[bool]) -> list[int]:
    with reading(bind) as conn:
        return list(conn.execute(sa.select(case_t.c.id).where(scope).order_by(case_t.c.id)).scalars())


def count_by_type_and_state(bind: Bind, scope: sa.ColumnElement[bool] | None = None) -> list[Any]:
    """(case_type, state, n) rows, sorted; within `scope` when given."""
    c = case_t.c
    q = sa.select(c.case_type, c.state, sa.func.count().label("n"))
    if scope is not None:
        q = q.where(scope)
    with reading(bind) as conn:
        return conn.execute(q.group_by(c.case_type, c.state).order_by(c.case_type, c.state)).all()


def people_with_keys(bind: Bind, case_ids: Iterable[int]) -> list[Any]:
    """For each case with a person: its authorisation keys with the person's id, cognome, nome, codice fiscale
    and birth date (as stored)."""
    c, p = case_t.c, person_t.c
    q = (sa.select(c.id, c.case_type, c.comune_istat, c.owner, c.provider_codice, c.state,
                   comune_t.c.sub_ambito, p.id.label("person_id"), p.cognome, p.nome, p.codice_fiscale,
                   p.data_nascita, c.ambito_code)
         .select_from(case_t.join(person_t, p.id == c.person_id)
                      .outerjoin(comune_t, comune_t.c.istat == c.comune_istat))
         .where(c.id.in_(list(case_ids))))
    with reading(bind) as conn:
        return conn.execute(q).all()


def person_search(words: list[str]) -> sa.ColumnElement[bool] | None:
    """Cases whose person matches every word in surname, name or codice fiscale (case-insensitive), as stored or
    as typed at a referral that differed from it (person_discrepancy): the candidates, which the caller narrows
    to the identities the reader may know (services/referral.py)."""
    if not words:
        return None
    p, d = person_t.c, person_discrepancy_t.c

    def all_words(surname, name) -> sa.ColumnElement[bool]:
        return sa.and_(*(sa.or_(*(sa.func.lower(col).like(_like(w), escape="\\")
                                  for col in (surname, name, p.codice_fiscale))) for w in words))

    stored = sa.select(p.id).where(all_words(p.cognome, p.nome))
    typed = (sa.select(d.person_id).select_from(person_discrepancy_t.join(person_t, p.id == d.person_id))
             .where(all_words(d.cognome, d.nome)))
    return case_t.c.person_id.in_(stored.union(typed))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def cases_in_states(bind: Bind, case_type: str, states: Iterable[str]) -> list[Any]:
    """(id, data) of the cases of a type in any of `states`, by id."""
    c = case_t.c
    q = sa.select(c.id, c.data).where(c.case_type == case_type, c.state.in_(sorted(states))).order_by(c.id)
    with reading(bind) as conn:
        return conn.execute(q).all()


def first_opened_at(bind: Bind, ambito: str | None = None) -> Any | None:
    """When the first case (of `ambito`, when given) was opened (None with no case)."""
    q = sa.select(sa.func.min(case_t.c.opened_at))
    if ambito is not None:
        q = q.where(case_t.c.ambito_code == ambito)
    with reading(bind) as conn:
        return conn.execute(q).scalar()


def count_by_type_and_outcome(bind: Bind) -> list[Any]:
    """(case_type, outcome, n) rows of the cases with an outcome."""
    c = case_t.c
    with reading(bind) as conn:
        return conn.execute(sa.select(c.case_type, c.outcome, sa.func.count()).where(c.outcome.is_not(None))
                            .group_by(c.case_type, c.outcome)).all()


def totals(bind: Bind) -> dict[str, int]:
    """How many cases, transitions and people the database holds."""
    with reading(bind) as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in (("cases", case_t), ("transitions", transition_t), ("people", person_t))}
