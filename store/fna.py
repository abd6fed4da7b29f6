"""The FNA pages' reads: the calls with how many applications each has, and a call's applications with the keys
the access decision needs and their sealed health part (the ranking's scores need ADL/IADL).

The case types are passed in by the caller (their names live with their declaration, domain/casetypes/fna/);
`scope` is a SQL condition over `case_file` (services.access.scoped_filter builds it): nothing here decides who
may see what.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store import health_store
from store.tables import Comune, case_t, person_t
from store.uow import Bind, reading

_comune_t = Comune.__table__


def calls(bind: Bind, scope: sa.ColumnElement[bool], *, call_type: str, application_type: str) -> list[Any]:
    """(id, state, data, domande) of the calls within `scope`, newest first; `domande` counts each call's
    applications (all of them, whoever reads)."""
    apps = sa.alias(case_t, "domande")
    n_apps = (sa.select(sa.func.count()).select_from(apps)
              .where(apps.c.related_case_id == case_t.c.id, apps.c.case_type == application_type).scalar_subquery())
    q = (sa.select(case_t.c.id, case_t.c.state, case_t.c.data, n_apps.label("domande"))
         .where(case_t.c.case_type == call_type, scope)
         .order_by(case_t.c.opened_at.desc(), case_t.c.id.desc()))
    with reading(bind) as conn:
        return conn.execute(q).all()


def applications(bind: Bind, call_id: int, *, application_type: str, scope: sa.ColumnElement[bool] | None = None,
                 health: bool = True) -> tuple[list[Any], dict[int, dict[str, Any]]]:
    """The applications of a call by id, within `scope` when given: rows (id, state, data, comune_istat, owner,
    provider_codice, nome [of the comune], sub_ambito, data_nascita), and {id: decrypted health part} (empty,
    and nothing read or decrypted, without `health`)."""
    person = sa.alias(person_t, "beneficiario")  # the scope's own EXISTS on person_t stays uncorrelated
    comune = sa.alias(_comune_t, "comune_domanda")
    q = (sa.select(case_t.c.id, case_t.c.state, case_t.c.data, case_t.c.comune_istat, case_t.c.owner,
                   case_t.c.provider_codice, comune.c.nome, comune.c.sub_ambito, person.c.data_nascita,
                   case_t.c.ambito_code)
         .select_from(case_t.outerjoin(comune, comune.c.istat == case_t.c.comune_istat)
                      .outerjoin(person, person.c.id == case_t.c.person_id))
         .where(case_t.c.related_case_id == call_id, case_t.c.case_type == application_type)
         .order_by(case_t.c.id))
    if scope is not None:
        q = q.where(scope)
    with reading(bind) as conn:
        rows = conn.execute(q).all()
        parts = health_store.current_of(conn, [r.id for r in rows]) if health else {}
    return rows, parts
