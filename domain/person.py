"""The person across measures (DOMAIN.md §13): a second open case of the same type, incompatibilities checked
against the person's real cases, and which codes may be merged. Pure: the facts come from the service layer.

- `PersonCase` is one case of a person as a guard or a check sees it (a fact the service reads, on the same
  connection as the transition: `World.cases_of_person`);
- `Incompatibility` is declared with a case type (`CaseType.incompatibilities`) and checked by the guard
  `real_incompatibility_guard`, which a transition of that type carries;
- `merge_problem` says why two codes may not be merged (omocodia variants never are).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import ConflictError
from domain.workflow import Guard


@dataclass(frozen=True)
class PersonCase:
    """A case of a person: its id, type, state, whether it is open and its measure (a `misura` field, if any)."""

    case_id: int
    case_type: str
    state: str
    open: bool
    measure: str | None = None


@dataclass(frozen=True)
class Incompatibility:
    """An open case of `case_type` (if `measures` is given: one whose `misura` is among them) excludes this type.
    `label` names it as a worker reads it ("Misura B1")."""

    case_type: str
    label: str
    measures: frozenset[str] = frozenset()

    def hit_by(self, case: PersonCase) -> bool:
        if not case.open or case.case_type != self.case_type:
            return False
        return not self.measures or (case.measure or "").casefold() in {m.casefold() for m in self.measures}


def clashes(declared: Iterable[Incompatibility], cases: Iterable[PersonCase], *, own_id: int | None) -> list[str]:
    """The labels of the declared incompatibilities that one of the person's open cases (not this one) hits."""
    others = [c for c in cases if c.case_id != own_id]
    return [i.label for i in declared if any(i.hit_by(c) for c in others)]


def _check_real_cases(ctx) -> str | None:  # ctx: domain.engine.Context
    from domain.registry import find_case_type

    ct = find_case_type(ctx.workflow.case_type)
    person = ctx.case.person or {}
    if ct is None or not ct.incompatibilities or not person.get("codice_fiscale"):
        return None
    found = clashes(ct.incompatibilities, ctx.world.cases_of_person(person["codice_fiscale"]), own_id=ctx.case.id)
    return ("risulta in Legami una misura incompatibile in corso per la persona: " + ", ".join(found)
            + " (anche se la domanda non la dichiara)") if found else None


def real_incompatibility_guard() -> Guard:
    """The guard that checks the case type's declared incompatibilities against the person's real cases."""
    return Guard("nessuna misura incompatibile tra i casi della persona in Legami", _check_real_cases)


# ----------------------------------------------------------------------------- a second open case


class DuplicateCase(ConflictError):
    """An open case of the same type exists for the same codice fiscale and no reason was given to open another.
    str() is the Italian message; `readable` are the ids the opener may read, `elsewhere` the others' count."""

    def __init__(self, message: str, readable: list[int], elsewhere: int):
        self.readable, self.elsewhere = readable, elsewhere
        super().__init__(message)


def duplicate_message(label: str, readable: list[int], elsewhere_notice: str | None) -> str:
    """What the opener is told before a second open case of type `label` is opened for the same person."""
    parts = []
    if readable:
        parts.append("caso aperto n. " + ", ".join(str(i) for i in readable))
    if elsewhere_notice:
        parts.append(elsewhere_notice)
    return (f"la persona ha già un caso aperto di tipo «{label}» ({'; '.join(parts)}): per aprirne un altro "
            "indicare il motivo")


# ----------------------------------------------------------------------------- merging codes


def merge_problem(provisional: str, definitive: str) -> str | None:
    """None when the provisional code (11 digits) may be merged into the definitive codice fiscale (16
    characters); otherwise the Italian reason. Two codici fiscali (omocodia variants included) are different
    people: never merged."""
    from domain.validation import InvalidValue, is_provisional_codice_fiscale, validate_codice_fiscale

    if not is_provisional_codice_fiscale(provisional):
        return ("solo un codice provvisorio (11 cifre) può essere unito a un codice fiscale definitivo: due codici "
                "fiscali, anche varianti per omocodia, sono persone diverse")
    if is_provisional_codice_fiscale(definitive):
        return "il codice definitivo deve essere un codice fiscale di 16 caratteri, non un altro codice provvisorio"
    try:
        validate_codice_fiscale(definitive)
    except InvalidValue as exc:
        return f"codice definitivo: {exc}"
    return None
