"""Hand-over, deputies and transfers (DOMAIN.md §13): the rules, pure.

A reassignment and a transfer are recorded as steps of the case's own history (the tamper-evident chain of
`case_transition`, `legami audit verify` covers them): a step named `riassegnazione` or `trasferimento` that
leaves the state as it is, with the reason, and in its data who had the case and who has it now (or the comune
before and after). They are not transitions of any case type's workflow: every case type gets them, in any open
state. A deputyship (sostituto) names, for a period [dal, al], the colleague who acts on a social worker's cases.

Who may do each of these is the access module's decision (domain/access_handover.py); here, what the input must be.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.bounds import MOTIVO_MAX, control_character_problem
from domain.errors import InvalidData
from domain.field_errors import FieldError
from domain.italian import format_date, parse_date

REASSIGN = "riassegnazione"
TRANSFER = "trasferimento"
STEP_LABELS = {REASSIGN: "Riassegnazione del caso", TRANSFER: "Trasferimento ad altro sub-ambito"}
# the keys these steps record (their field class: administrative, domain/fields.py COMMON_FIELDS)
FROM_OWNER, TO_OWNER, FROM_COMUNE, TO_COMUNE = ("assegnatario_precedente", "nuovo_assegnatario",
                                                "comune_precedente", "nuovo_comune")

LABELS = {"motivo": "Motivo", "nuovo_assegnatario": "Nuovo assegnatario", "nuovo_comune": "Nuovo comune",
          "sostituto": "Sostituto", "assegnatario": "Assistente sociale sostituito", "dal": "Dal", "al": "Al"}


def _error(field: str, message: str) -> FieldError:
    return FieldError(field, LABELS[field], message)


def check_reason(raw: Any) -> str:
    """The reason of a reassignment or a transfer: required, one bounded text; InvalidData naming «Motivo»."""
    text = str(raw or "").strip()
    if not text:
        raise InvalidData([_error("motivo", "obbligatorio: indichi perché il caso passa di mano")])
    if len(text) > MOTIVO_MAX:
        raise InvalidData([_error("motivo", f"al massimo {MOTIVO_MAX} caratteri (ne ha {len(text)})")])
    problem = control_character_problem(text, multiline=True)
    if problem:
        raise InvalidData([_error("motivo", problem)])
    return text


def check_required(field: str, raw: Any) -> str:
    value = str(raw or "").strip()
    if not value:
        raise InvalidData([_error(field, "obbligatorio")])
    return value


@dataclass(frozen=True)
class Period:
    dal: date
    al: date

    def covers(self, day: date) -> bool:
        return self.dal <= day <= self.al


def check_period(raw_from: Any, raw_to: Any, today: date) -> Period:
    """A deputyship's period: two dates (gg/mm/aaaa), «Al» not before «Dal» nor in the past."""
    errors, found = [], {}
    for field, raw in (("dal", raw_from), ("al", raw_to)):
        if isinstance(raw, date):
            found[field] = raw
            continue
        text = str(raw or "").strip()
        if not text:
            errors.append(_error(field, "obbligatoria (gg/mm/aaaa)"))
            continue
        try:
            found[field] = parse_date(text)
        except ValueError as exc:
            errors.append(_error(field, str(exc)))
    if not errors and found["al"] < found["dal"]:
        errors.append(_error("al", f"non può precedere la data di inizio ({format_date(found['dal'])})"))
    if not errors and found["al"] < today:
        errors.append(_error("al", f"il periodo è già finito (oggi è il {format_date(today)})"))
    if errors:
        raise InvalidData(errors)
    return Period(found["dal"], found["al"])


def reassign_problem(*, state_terminal: bool, owner: str | None, new_owner: str,
                     new_owner_role: str | None, new_owner_sub_ambito: str | None,
                     case_sub_ambito: str | None) -> FieldError | None:
    """Why `new_owner` cannot take the case (None if they can): an open case, a social worker of its sub-ambito,
    someone other than its current owner."""
    if state_terminal:
        return _error("nuovo_assegnatario", "il caso è concluso: non si riassegna")
    if new_owner_role != "social_worker":
        return _error("nuovo_assegnatario", f"«{new_owner}» non è un assistente sociale attivo")
    if case_sub_ambito is not None and new_owner_sub_ambito != case_sub_ambito:
        return _error("nuovo_assegnatario", f"«{new_owner}» non lavora nel sub-ambito del caso ({case_sub_ambito})")
    if new_owner == owner:
        return _error("nuovo_assegnatario", f"il caso è già assegnato a «{new_owner}»")
    return None


def transfer_problem(*, state_terminal: bool, comune: str | None, new_comune: str | None,
                     sub_ambito: str | None, new_sub_ambito: str | None) -> FieldError | None:
    """Why the case cannot move to `new_comune` (None if it can): an open case, a known comune of ANOTHER
    sub-ambito (within the same sub-ambito the comune is corrected with a step of the case type, if any)."""
    if state_terminal:
        return _error("nuovo_comune", "il caso è concluso: non si trasferisce")
    if new_sub_ambito is None:
        return _error("nuovo_comune", f"comune «{new_comune}» sconosciuto nel distretto")
    if new_comune == comune or new_sub_ambito == sub_ambito:
        return _error("nuovo_comune", "il nuovo comune è nello stesso sub-ambito: non è un trasferimento")
    return None


def handover_data(values: Mapping[str, Any]) -> dict[str, Any]:
    """The data a reassignment or transfer step records (only what is set)."""
    return {k: v for k, v in values.items() if v is not None}
