"""The person across measures (DOMAIN.md §13): one page per person, the second open case of a type at referral,
merging a provisional code into the definitive one, resolving an identity discrepancy.

Who may read which case is `domain.access.read_refusal` (through `services.access.readable_case_ids`); who may
merge or resolve is `domain.access.identity_refusal`. A reader learns of the cases they may not read only how
many there are and whom to contact (by role and sub-ambito), never a name or a case.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, CaseRef, Principal, identity_refusal, is_minor
from domain.errors import InvalidData, NotFound
from domain.identity import contact
from domain.person import DuplicateCase, duplicate_message, merge_problem
from domain.registry import find_case_type, get_workflow
from domain.validation import FieldError, birth_date_from_codice_fiscale
from store import persons
from store.uow import reading, writing


def _open(row: Any) -> bool:
    ct = find_case_type(row.case_type)
    return ct is not None and any(s.name == row.state and not s.terminal for s in ct.workflow.states)


def _ref(row: Any, today: date) -> CaseRef:
    return CaseRef(row.case_type, row.comune_istat, row.sub_ambito, row.owner, row.provider_codice,
                   is_minor(row.data_nascita, today), row.state, row.kind, getattr(row, "ambito_code", None))


def elsewhere_notice(rows: list[Any]) -> str | None:
    """"2 altri casi in altri sub-ambiti: contatti il coordinatore del sub-ambito Pandino" (or None)."""
    if not rows:
        return None
    whom = ", ".join(dict.fromkeys(contact(r.sub_ambito) for r in sorted(rows, key=lambda r: r.sub_ambito or "")))
    n = len(rows)
    return (f"{n} {'altro caso' if n == 1 else 'altri casi'} che non può consultare "
            f"{'(altro sub-ambito o servizio)' if n == 1 else '(altri sub-ambiti o servizi)'}: contatti {whom}")


def _split(principal: Principal, rows: list[Any], today: date) -> tuple[list[Any], list[Any]]:
    from services.access import readable_case_ids

    readable = readable_case_ids(principal, rows, today)
    return [r for r in rows if r.case_id in readable], [r for r in rows if r.case_id not in readable]


def person_page(engine: Engine, principal: Principal, person_id: int, *, today: date) -> dict[str, Any]:
    """The person as `principal` may know them: every case of theirs the reader may read (across measures), how
    many others there are and whom to ask. NotFound if the reader may read none of them (nothing is revealed)."""
    from services.referral import person_view

    with reading(engine) as conn:
        rows = persons.cases_with_keys(conn, person_id)
        merges = persons.merges_of(conn, person_id)
        discrepant = {d.case_id for d in persons.discrepancies_of(conn, person_id)}
    seen, unseen = _split(principal, rows, today)
    if not seen:
        raise NotFound(f"persona {person_id} inesistente")
    view = person_view(engine, principal, seen[-1].case_id, today=today)
    keys = [_ref(r, today) for r in rows]
    return {
        "id": person_id,
        "persona": view["persona"],
        "codice_provvisorio": rows[0].provisional_code,
        "casi": [{"id": r.case_id, "tipo": r.case_type, "tipo_etichetta": get_workflow(r.case_type).label,
                  "stato": r.state, "stato_etichetta": get_workflow(r.case_type).state(r.state).label,
                  "aperto": _open(r), "comune": r.comune, "sub_ambito": r.sub_ambito,
                  "aperto_il": _day(r.opened_at)} for r in seen],
        "altri_casi": len(unseen),
        "altri_casi_nota": elsewhere_notice(unseen),
        "discrepanze_anagrafiche": view["discrepanze_anagrafiche"],
        "unioni": [{"codice_provvisorio": m.provisional_code, "codice_definitivo": m.definitive_code,
                    "casi": list(m.case_ids), "motivo": m.reason, "da": m.merged_by,
                    "il": _day(m.merged_at)} for m in merges],
        "puo_unire": identity_refusal(principal, keys) is None,
        "puo_risolvere": identity_refusal(principal, _stored(rows, discrepant, today), every=False) is None,
    }


def person_id_of_case(engine: Engine, principal: Principal, case_id: int, *, today: date) -> int:
    """The person of case `case_id`, once `principal` may read the case (AccessDenied, NotFound otherwise)."""
    from services.access import authorize_read

    authorize_read(engine, principal, case_id, today=today)
    with reading(engine) as conn:
        found = persons.person_of_case(conn, case_id)
    if found is None:
        raise NotFound(f"il caso {case_id} non riguarda una persona")
    return found.id


def _stored(rows: list[Any], discrepant: set[int], today: date) -> list[CaseRef]:
    """The keys of the person's cases that show the stored identity (opened without a discrepancy)."""
    return [_ref(r, today) for r in rows if r.case_id not in discrepant]


def _day(value: datetime) -> str:
    at = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    from domain.italian import ROME

    return at.astimezone(ROME).date().isoformat()


# ----------------------------------------------------------------------------- a second open case at referral


def duplicate_check(principal: Principal, *, case_type: str, reason: str | None, today: date):
    """The check `CaseService.open_case` runs inside its unit of work once the opening is decided (data valid,
    policy in force): it refuses (DuplicateCase, 409) a case of `case_type` for a codice fiscale that already has
    an open one, unless a reason is given (recorded on the opening step). The opener is shown the open cases they
    may read by number, and of the others only how many and whom to ask."""

    def check(conn: Any, person: dict[str, Any] | None) -> None:
        code = str((person or {}).get("codice_fiscale") or "")
        if not code or (reason or "").strip():
            return
        rows = [r for r in persons.cases_with_keys_by_code(conn, code) if r.case_type == case_type and _open(r)]
        if not rows:
            return
        seen, unseen = _split(principal, rows, today)
        readable = [r.case_id for r in seen]
        raise DuplicateCase(duplicate_message(get_workflow(case_type).label, readable, elsewhere_notice(unseen)),
                            readable, len(unseen))

    return check


# ----------------------------------------------------------------------------- identity hygiene


def merge_codes(engine: Engine, principal: Principal, *, provisional: str, definitive: str, reason: str,
                now: datetime, today: date) -> dict[str, Any]:
    """Merge the provisional code's person into the definitive codice fiscale: its cases (and recorded
    discrepancies) move to the person with the definitive code, or the person takes the definitive code if none
    has it yet. Recorded in person_merge (who, when, why, which cases). Omocodia variants are never merged."""
    _role_may_change_identities(principal)
    provisional, definitive = provisional.strip(), definitive.strip().upper()
    errors = []
    if (problem := merge_problem(provisional, definitive)) is not None:
        errors.append(FieldError("definitivo" if "definitivo" in problem else "provvisorio", "Codice", problem))
    if not (reason or "").strip():
        errors.append(FieldError("motivo", "Motivo", "indicare il motivo dell'unione"))
    if errors:
        raise InvalidData(errors)
    with writing(engine) as conn:
        source = persons.person_by_code(conn, provisional)
        if source is None:
            raise NotFound(f"nessuna persona con il codice provvisorio {provisional}")
        target = persons.person_by_code(conn, definitive)
        rows = persons.cases_with_keys(conn, source.id) + (persons.cases_with_keys(conn, target.id) if target else [])
        refusal = identity_refusal(principal, [_ref(r, today) for r in rows])
        if refusal is not None:
            raise AccessDenied(refusal)
        encoded = birth_date_from_codice_fiscale(definitive, today)
        if encoded != source.data_nascita:  # the typed birth date or the code is wrong: a person decides, not this
            raise InvalidData([FieldError("definitivo", "Codice fiscale definitivo",
                                          f"indica la nascita il {encoded:%d/%m/%Y}, in archivio il "
                                          f"{source.data_nascita:%d/%m/%Y}: correggere prima la data di nascita")])
        moved = [r.case_id for r in rows if r.id == source.id]
        if target is None:
            persons.set_code(conn, source.id, definitive)
            into = source.id
        else:
            persons.move_cases(conn, from_person=source.id, to_person=target.id)
            persons.delete_person(conn, source.id)
            into = target.id
        persons.record_merge(conn, {"provisional_code": provisional, "definitive_code": definitive,
                                    "into_person_id": into, "case_ids": moved, "reason": reason.strip(),
                                    "merged_by": principal.username, "merged_at": now.astimezone(timezone.utc)})
    return {"persona": into, "casi_spostati": moved, "codice_definitivo": definitive}


def _role_may_change_identities(principal: Principal) -> None:
    """A role that never changes identities is refused before any person is looked up (nothing is revealed)."""
    refusal = identity_refusal(principal, [])
    if refusal is not None:
        raise AccessDenied(refusal)


RESOLUTIONS = {"archivio": "resta l'anagrafica in archivio", "indicato": "vale quanto indicato alla segnalazione"}


def resolve_discrepancy(engine: Engine, principal: Principal, *, case_id: int, choice: str, note: str | None,
                        now: datetime, today: date) -> dict[str, Any]:
    """Resolve the identity discrepancy recorded when case `case_id` was opened: "archivio" keeps the stored
    identity, "indicato" replaces it with what was typed. Who resolves, when and how are kept on the record."""
    _role_may_change_identities(principal)
    if choice not in RESOLUTIONS:
        raise InvalidData([FieldError("esito", "Esito", "scegliere tra: " + ", ".join(RESOLUTIONS))])
    with writing(engine) as conn:
        found = persons.discrepancy(conn, case_id)
        if found is None or found.resolved_at is not None:
            raise NotFound(f"nessuna discrepanza anagrafica da risolvere sul caso {case_id}")
        discrepant = {d.case_id for d in persons.discrepancies_of(conn, found.person_id)}
        rows = persons.cases_with_keys(conn, found.person_id)
        refusal = identity_refusal(principal, _stored(rows, discrepant, today), every=False)
        if refusal is not None:
            raise AccessDenied(refusal)
        if choice == "indicato":
            persons.set_identity(conn, found.person_id, cognome=found.cognome, nome=found.nome,
                                 data_nascita=found.data_nascita)
        persons.resolve_discrepancy(conn, discrepancy_id=found.id, choice=choice, note=(note or "").strip() or None,
                                    resolved_at=now.astimezone(timezone.utc), resolved_by=principal.username)
    return {"caso": case_id, "persona": found.person_id, "esito": choice, "esito_etichetta": RESOLUTIONS[choice]}
