"""The access conditions of domain/access.py compiled to SQL over `case_file`: mechanical, no rule here.

`to_sql(cond, user, today=...)` says in SQL exactly what `domain.access.holds(cond, user, case)` says in
Python, so a list, a search, Oggi, the calendar feed or an export filters with the same rules as the check
on one case (an integration test compares both over a matrix of users and cases).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import sqlalchemy as sa

from domain.conditions import (
    AllOf,
    Always,
    AnyOf,
    ComuneInUserComuni,
    Cond,
    InUserAmbito,
    InUserSubAmbito,
    IsMinor,
    Not,
    OwnerIsUser,
    Principal,
    ProviderIsUser,
    StateIn,
    TypeIn,
    minor_birth_cutoff,
)
from store.sql_in import among, among_selected
from store.tables import Comune, case_t, person_t

_comune_t = Comune.__table__


def to_sql(cond: Cond, user: Principal, *, today: date) -> sa.ColumnElement[bool]:
    """`cond` for `user` on `today` in SQL. A pure function of its three (immutable) arguments, so the
    expression is kept per distinct arguments (`_compiled`, the last 256): a page asks for its reader's scope
    several times and a user asks for the same pages all day; the values stay bound parameters, so what is
    kept is only the expression's shape and the reader's own keys, never rows."""
    try:
        return _compiled(cond, user, today)
    except TypeError:  # an argument that cannot be hashed (a test's stand-in): built afresh
        return _to_sql(cond, user, today=today)


@lru_cache(maxsize=256)
def _compiled(cond: Cond, user: Principal, today: date) -> sa.ColumnElement[bool]:
    return _to_sql(cond, user, today=today)


def _to_sql(cond: Cond, user: Principal, *, today: date) -> sa.ColumnElement[bool]:
    c = case_t.c
    match cond:
        case Always(value):
            return sa.true() if value else sa.false()
        case OwnerIsUser():
            return sa.and_(c.owner.is_not(None),  # never NULL: safe under Not
                           among(c.owner, [user.username, *user.represents]) if user.represents
                           else c.owner == user.username)
        case ComuneInUserComuni():
            return sa.and_(c.comune_istat.is_not(None), among(c.comune_istat, user.comuni)) \
                if user.comuni else sa.false()
        case InUserSubAmbito():
            if user.sub_ambito is None:
                return sa.false()
            # its comuni as one array computed once on PostgreSQL (store/sql_in.py), not a hashed subplan: inside
            # the coordinator's OR the planner then reads the (comune_istat, ...) index for them instead of
            # filtering every case of the Ambito (12,624 scattered among a region's 400,000: 31 -> 12 ms)
            area = (sa.select(_comune_t.c.istat).where(_comune_t.c.sub_ambito == user.sub_ambito)
                    .correlate(None).scalar_subquery())
            return sa.and_(c.comune_istat.is_not(None), among_selected(c.comune_istat, area))
        case InUserAmbito():
            a = user.ambito
            if a is None:
                return sa.true()
            return c.ambito_code == a.code  # set at open, import and transfer; first key of the scoped indexes
        case ProviderIsUser():
            if not user.provider_codice:
                return sa.false()
            return sa.and_(c.provider_codice.is_not(None), c.provider_codice == user.provider_codice)
        case TypeIn(types):
            return among(c.case_type, types) if types else sa.false()
        case StateIn(states):
            return among(c.state, states) if states else sa.false()
        case IsMinor():
            return sa.exists().where(person_t.c.id == c.person_id,
                                     person_t.c.data_nascita > minor_birth_cutoff(today))
        case AllOf(parts):
            return sa.and_(sa.true(), *(_to_sql(p, user, today=today) for p in parts))
        case AnyOf(parts):
            return sa.or_(sa.false(), *(_to_sql(p, user, today=today) for p in parts))
        case Not(part):
            return sa.not_(_to_sql(part, user, today=today))
    raise TypeError(f"condizione sconosciuta: {cond!r}")
