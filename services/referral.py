"""The person behind a case, as the reader may know them (DOMAIN.md §13 "Out of scope").

A case's person is the stored record shared by all the person's cases. A reader learns the stored identity
only if they may read a case of the person that shows it (one opened with a matching identity); otherwise a
case opened with a different name shows what its opener typed. A reader who may read none of the cases the
person had when this case was opened is told only that the person is known and whom to contact (by role and
sub-ambito). Discrepancies
between typed and stored identities are listed for the readers who know the stored one, to be resolved.
The case list and its search (`people_views`) follow the same rule, case by case.
"""
from __future__ import annotations

from datetime import date, timezone
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import Principal
from domain.identity import COMPARED, display, identity_differences, known_elsewhere_notice
from domain.italian import ROME
from store import persons
from store.uow import Bind, reading


def person_view(bind: Bind, principal: Principal, case_id: int, *, today: date) -> dict[str, Any]:
    """{"persona": the identity to show or None, "persona_nota": the notice or None,
    "discrepanze_anagrafiche": [...]} for `principal` reading case `case_id` (which they may read)."""
    from services.access import readable_case_ids

    out: dict[str, Any] = {"persona": None, "persona_nota": None, "discrepanze_anagrafiche": []}
    with reading(bind) as conn:
        cases = persons.cases_of_person_of_case(conn, case_id)  # the person with every case of theirs
        if not cases:
            return out
        person = cases[0]
        records = persons.discrepancies_of(conn, person.id)
    readable = readable_case_ids(principal, cases, today)
    readable.add(case_id)
    typed = {r.case_id: r for r in records}
    knows_stored = any(c not in typed for c in readable)
    earlier = [c for c in cases if c.case_id < case_id]  # the cases the person had when this one was opened
    unread = [c.sub_ambito for c in earlier if c.case_id not in readable]
    if unread and not any(c.case_id in readable and c.case_id not in typed for c in earlier):
        out["persona_nota"] = known_elsewhere_notice(unread)
    shown = person if knows_stored or case_id not in typed else typed[case_id]
    out["persona"] = {"cognome": shown.cognome, "nome": shown.nome, "codice_fiscale": person.codice_fiscale}
    if knows_stored:
        stored = {"cognome": person.cognome, "nome": person.nome, "codice_fiscale": person.codice_fiscale,
                  "data_nascita": person.data_nascita}
        out["discrepanze_anagrafiche"] = [_discrepancy(stored, r) for r in records if r.resolved_at is None]
    return out


def people_views(engine: Engine, principal: Principal, rows: list[Any], *,
                 today: date) -> dict[int, dict[str, Any]]:
    """For a list of cases (rows with `id`, `person_id` and the stored `cognome`, `nome`, `codice_fiscale`,
    `data_nascita`, all readable by `principal`), what `person_view` decides for each, in three queries:
    {case id: {"persona": the identity to show, "discrepanze_anagrafiche": [...] (for a reader who knows the stored
    identity), "identita_note": every identity the reader may know for that case (what a search may match)}}."""
    from services.access import scoped_filter

    if not rows:
        return {}
    people = {r.person_id for r in rows}
    with reading(engine) as conn:
        records = persons.discrepancies_of_people(conn, people)
        within = persons.cases_of_people_within(conn, people, scoped_filter(principal, today=today))
    typed_by_person: dict[int, dict[int, Any]] = {}
    for rec in records:
        typed_by_person.setdefault(rec.person_id, {})[rec.case_id] = rec
    readable: dict[int, set[int]] = {}
    for c in within:
        readable.setdefault(c.person_id, set()).add(c.id)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        typed = typed_by_person.get(r.person_id, {})
        stored = {"cognome": r.cognome, "nome": r.nome, "codice_fiscale": r.codice_fiscale,
                  "data_nascita": r.data_nascita}
        knows_stored = any(c not in typed for c in readable.get(r.person_id, set()) | {r.id})
        shown = stored if knows_stored or r.id not in typed else \
            {"cognome": typed[r.id].cognome, "nome": typed[r.id].nome, "codice_fiscale": r.codice_fiscale}
        known = [shown, *({"cognome": t.cognome, "nome": t.nome, "codice_fiscale": r.codice_fiscale}
                          for t in typed.values())] if knows_stored else [shown]
        out[r.id] = {
            "persona": {"cognome": shown["cognome"], "nome": shown["nome"], "codice_fiscale": r.codice_fiscale},
            "discrepanze_anagrafiche": [d for t in typed.values()
                                        if t.resolved_at is None and (d := _discrepancy(stored, t))["campi"]]
            if knows_stored else [],
            "identita_note": known,
        }
    return out


def _discrepancy(stored: dict[str, Any], record: Any) -> dict[str, Any]:
    fields = dict(COMPARED)
    at = record.recorded_at if record.recorded_at.tzinfo else record.recorded_at.replace(tzinfo=timezone.utc)
    return {
        "caso": record.case_id,
        "sub_ambito": record.sub_ambito,
        "registrata_il": at.astimezone(ROME).date().isoformat(),
        "campi": [{"campo": key, "etichetta": fields[key], "in_archivio": display(key, stored[key]),
                   "indicato": display(key, getattr(record, key))}
                  for key in identity_differences(stored, record._asdict())],
    }


def apply_person_view(detail: dict[str, Any], bind: Bind, principal: Principal, case_id: int, *,
                      today: date) -> dict[str, Any]:
    """A redacted case detail with the person as `principal` may know them (nothing if identity is hidden)."""
    if detail.get("persona") is None:
        detail.setdefault("persona_nota", None)
        detail.setdefault("discrepanze_anagrafiche", [])
        return detail
    detail.update(person_view(bind, principal, case_id, today=today))
    return detail




def notice_for(engine: Engine, principal: Principal, case_id: int, *, today: date) -> str | None:
    """What the opener of `case_id` is told about a person known in cases they may not read (or None)."""
    return person_view(engine, principal, case_id, today=today)["persona_nota"]
