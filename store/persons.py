"""Reads and writes about people across their cases: the stored identity, its discrepancies, and which cases
of a person a scope condition lets through (the condition itself comes from services.access)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from store.tables import Comune, case_t, person_discrepancy_t, person_merge_t, person_t

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
                      c.kind, c.ambito_code)
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
                      _comune_t.c.sub_ambito, d.resolved_at)
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


# ----------------------------------------------------------------------------- the person across measures


def person_cases(conn: Connection | Any, codice_fiscale: str) -> list[tuple[int, str, str, Any]]:
    """(id, case_type, state, misura) of every case of the person with this code, by id: the fact the
    incompatibility guard reads, on the transition's own connection (the hot path's cursor)."""
    from store.hot_sql import _cursor

    cur = _cursor(conn)
    sql = cur.sql
    rows = cur.fetch_all("SELECT case_file.id, case_file.case_type, case_file.state, case_file.data FROM case_file "
                         f"JOIN person ON person.id = case_file.person_id WHERE person.codice_fiscale = {sql.p} "
                         "ORDER BY case_file.id", (codice_fiscale,))
    return [(i, t, s, (sql.read_json(d) or {}).get("misura")) for i, t, s, d in rows]


def _with_keys() -> sa.Select:
    p, c = person_t.c, case_t.c
    return (sa.select(p.id, p.cognome, p.nome, p.codice_fiscale, p.data_nascita, p.provisional_code,
                      c.id.label("case_id"), c.case_type, c.comune_istat, _comune_t.c.sub_ambito,
                      _comune_t.c.nome.label("comune"), c.owner, c.provider_codice, c.state, c.kind,
                      c.opened_at)
            .select_from(case_t.join(person_t, p.id == c.person_id)
                         .outerjoin(_comune_t, _comune_t.c.istat == c.comune_istat)).order_by(c.id))


def cases_with_keys(conn: Connection, person_id: int) -> list[Row]:
    """Every case of the person, with the person as stored and the case's authorisation keys (what
    `cases_of_person_of_case` answers), plus the comune's name and the opening time."""
    return conn.execute(_with_keys().where(case_t.c.person_id == person_id)).all()


def cases_with_keys_by_code(conn: Connection, codice_fiscale: str) -> list[Row]:
    return conn.execute(_with_keys().where(person_t.c.codice_fiscale == codice_fiscale)).all()


def person_by_code(conn: Connection, codice_fiscale: str) -> Row | None:
    p = person_t.c
    return conn.execute(sa.select(p.id, p.codice_fiscale, p.cognome, p.nome, p.data_nascita, p.provisional_code)
                        .where(p.codice_fiscale == codice_fiscale)).first()


def move_cases(conn: Connection, *, from_person: int, to_person: int) -> None:
    """Every case and recorded discrepancy of one person moves to another (a merge)."""
    conn.execute(case_t.update().where(case_t.c.person_id == from_person).values(person_id=to_person))
    conn.execute(person_discrepancy_t.update().where(person_discrepancy_t.c.person_id == from_person)
                 .values(person_id=to_person))


def delete_person(conn: Connection, person_id: int) -> None:
    conn.execute(person_t.delete().where(person_t.c.id == person_id))


def set_code(conn: Connection, person_id: int, codice_fiscale: str) -> None:
    conn.execute(person_t.update().where(person_t.c.id == person_id)
                 .values(codice_fiscale=codice_fiscale, provisional_code=False))


def record_merge(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(person_merge_t.insert().returning(person_merge_t.c.id), values).scalar_one()


def merges_of(conn: Connection, person_id: int) -> list[Row]:
    m = person_merge_t.c
    return conn.execute(sa.select(m.provisional_code, m.definitive_code, m.case_ids, m.reason, m.merged_by,
                                  m.merged_at).where(m.into_person_id == person_id).order_by(m.id)).all()


def discrepancy(conn: Connection, discrepancy_case_id: int) -> Row | None:
    d = person_discrepancy_t.c
    return conn.execute(sa.select(d.id, d.person_id, d.case_id, d.cognome, d.nome, d.data_nascita, d.resolved_at)
                        .where(d.case_id == discrepancy_case_id)).first()


def resolve_discrepancy(conn: Connection, *, discrepancy_id: int, choice: str, note: str | None,
                        resolved_at: datetime, resolved_by: str) -> None:
    conn.execute(person_discrepancy_t.update().where(person_discrepancy_t.c.id == discrepancy_id).values(
        resolution=choice, resolution_note=note, resolved_at=resolved_at, resolved_by=resolved_by))


def set_identity(conn: Connection, person_id: int, *, cognome: str, nome: str, data_nascita: date) -> None:
    conn.execute(person_t.update().where(person_t.c.id == person_id)
                 .values(cognome=cognome, nome=nome, data_nascita=data_nascita))
