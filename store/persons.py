"""Reads and writes about people across their cases: the stored identity, its discrepancies, and which cases
of a person a scope condition lets through (the condition itself comes from services.access)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from store.tables import Comune, case_t, person_discrepancy_t, person_t

_comune_t = Comune.__table__


def find_person(conn: Connection, codice_fiscale: str) -> Row | None:
    return conn.execute(sa.select(person_t.c.id, person_t.c.cognome, person_t.c.nome, person_t.c.data_nascita)
                        .where(person_t.c.codice_fiscale == codice_fiscale)).first()


def record_discrepancy(conn: Connection, *, person_id: int, case_id: int, typed: dict[str, Any],
                       recorded_at: datetime, recorded_by: str) -> None:
    conn.execute(person_discrepancy_t.insert(), {
        "person_id": person_id, "case_id": case_id, "cognome": typed["cognome"], "nome": typed["nome"],
        "data_nascita": date.fromisoformat(str(typed["data_nascita"])), "recorded_at": recorded_at, "recorded_by": recorded_by})


def person_of_case(conn: Connection, case_id: int) -> Row | None:
    p = person_t.c
    return conn.execute(sa.select(p.id, p.cognome, p.nome, p.codice_fiscale, p.data_nascita)
                        .join(case_t, case_t.c.person_id == p.id).where(case_t.c.id == case_id)).first()


def _cases_of_person_of_case() -> sa.Select:
    p, c = person_t.c, case_t.c
    of_case = sa.select(c.person_id).where(c.id == sa.bindparam("case_id")).scalar_subquery()
    return (sa.select(p.id, p.cognome, p.nome, p.codice_fiscale, p.data_nascita, c.id.label("case_id"),
                      c.case_type, c.comune_istat, _comune_t.c.sub_ambito, c.owner, c.provider_codice, c.state,
                      c.kind)
            .select_from(case_t.join(person_t, p.id == c.person_id)
                         .outerjoin(_comune_t, _comune_t.c.istat == c.comune_istat))
            .where(c.person_id == of_case).order_by(c.id))


_CASES_OF_PERSON_OF_CASE = _cases_of_person_of_case()  # built once: a case page reads it on every request


def cases_of_person_of_case(conn: Connection, case_id: int) -> list[Row]:
    """Every case of the person behind case `case_id`, by id, each with the person as stored (id, cognome, nome,
    codice_fiscale, data_nascita) and the case's authorisation keys (case_id, case_type, comune_istat,
    sub_ambito, owner, provider_codice, state, kind): what deciding who may read which of them needs, in one
    statement. Empty if the case has no person (or does not exist)."""
    return conn.execute(_CASES_OF_PERSON_OF_CASE, {"case_id": case_id}).all()


def cases_of_person(conn: Connection, person_id: int) -> list[Row]:
    """(id, sub_ambito) of every case of the person."""
    return conn.execute(sa.select(case_t.c.id, _comune_t.c.sub_ambito)
                        .select_from(case_t.outerjoin(_comune_t, _comune_t.c.istat == case_t.c.comune_istat))
                        .where(case_t.c.person_id == person_id).order_by(case_t.c.id)).all()


def case_ids_within(conn: Connection, person_id: int, scope: sa.ColumnElement[bool]) -> set[int]:
    return set(conn.execute(sa.select(case_t.c.id).where(case_t.c.person_id == person_id, scope)).scalars())


def discrepancies_of(conn: Connection, person_id: int) -> list[Row]:
    """What `discrepancies_of_people` answers for one person (a statement built once: a case read asks it)."""
    return conn.execute(_DISCREPANCIES_OF, {"person_id": person_id}).all()


def _discrepancies(of: Any) -> sa.Select:
    d = person_discrepancy_t.c
    return (sa.select(d.person_id, d.case_id, d.cognome, d.nome, d.data_nascita, d.recorded_at,
                      _comune_t.c.sub_ambito)
            .select_from(person_discrepancy_t.join(case_t, case_t.c.id == d.case_id)
                         .outerjoin(_comune_t, _comune_t.c.istat == case_t.c.comune_istat))
            .where(of(d.person_id)).order_by(d.id))


_DISCREPANCIES_OF = _discrepancies(lambda person_id: person_id == sa.bindparam("person_id"))


def discrepancies_of_people(conn: Connection, person_ids: Iterable[int]) -> list[Row]:
    """(person_id, case_id, cognome, nome, data_nascita, recorded_at, sub_ambito) of every identity typed at a
    referral that differed from the stored one, for these people, in the order recorded."""
    people = sorted(set(person_ids))
    return conn.execute(_discrepancies(lambda person_id: person_id.in_(people))).all()


def cases_of_people_within(conn: Connection, person_ids: Iterable[int], scope: sa.ColumnElement[bool]) -> list[Row]:
    """(id, person_id) of these people's cases that `scope` lets through."""
    return conn.execute(sa.select(case_t.c.id, case_t.c.person_id)
                        .where(case_t.c.person_id.in_(sorted(set(person_ids))), scope)).all()
