"""Who may read a case, which of its fields, and who may fire its transitions (DOMAIN.md §2). Pure rules.

The service layer (services/access.py) builds a `Principal` from the user and a `CaseRef` from the case
and asks these functions; the web pages, the REST API and the CLI go through the service layer, so a rule
here holds for every entrypoint.

Field classes come from the declarations: every field of every transition's data model is classified
once (`field_classes`), from its type where the type says it (a `Persona` is identity; an IBAN, an ISEE
attestation or an amount in euro is administrative) and otherwise from the tables below. A field nobody
classified is treated as health data (the most protected class) and is reported by `unclassified_fields`,
which a unit test keeps empty for the built-in declarations.

Assumptions [A], configurable through `AccessPolicy`:
- minors' cases are read only by their owner and the sub-ambito coordinator (DOMAIN.md §2);
- a social worker fires a transition on a case assigned to a colleague only if `owner_only_fires` is off;
- the planning office reads FNA applications one by one (it ranks them: ISEE, severity, ADL, living
  alone), every other case only in aggregate;
- the health assessor (ASST) reads FNA applications while they are sent for assessment.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from domain.common import Persona, age_on
from domain.engine import Actor
from domain.errors import DomainError, UnknownCaseType
from domain.validation import Isee, validate_codice_fiscale, validate_iban
from domain.workflow import ROLE_LABELS, Role, Transition, Workflow

R = Role


class AccessDenied(DomainError):
    """The user may not read the case or fire the transition; str() is the Italian reason."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"accesso negato: {reason}")


class FieldClass(StrEnum):
    IDENTITY = "identity"  # persona: name, codice fiscale, birth date, contacts
    ADMINISTRATIVE = "administrative"  # protocol, IBAN, amounts, ISEE, payments, acts and their dates
    SOCIAL = "social"  # notes, needs, resources, objectives of a pact, reports, reasons
    HEALTH = "health"  # ADL/IADL, disability and attendance-allowance flags, PAI clinical notes (art. 9 GDPR)
    CARE_PLAN = "care_plan"  # the operational PAI: services, hours, voucher validity, visits


FIELD_CLASS_LABELS: dict[FieldClass, str] = {
    FieldClass.IDENTITY: "dati anagrafici",
    FieldClass.ADMINISTRATIVE: "dati amministrativi",
    FieldClass.SOCIAL: "note e valutazioni sociali",
    FieldClass.HEALTH: "dati sanitari",
    FieldClass.CARE_PLAN: "piano di assistenza",
}

ALL_CLASSES: frozenset[FieldClass] = frozenset(FieldClass)
F = FieldClass
_I, _A, _S, _H, _C = F.IDENTITY, F.ADMINISTRATIVE, F.SOCIAL, F.HEALTH, F.CARE_PLAN

# Fields with the same meaning in every case type (checked before the type rules).
COMMON_FIELDS: dict[str, FieldClass] = {
    "persona": _I,
    "protocollo": _A,
    "tipologia": _A,
    "ente": _A,
    "modulo_firmato_il": _A,
    "firmato_il": _A,
    "dichiarazione_del": _A,
    "esito": _A,  # the outcome is also shown with the case's state
    "motivo_esito": _S,
}

# Fields whose class depends on the case type ("obiettivi" of a pact are social, of a PAI care plan).
CASE_TYPE_FIELDS: dict[str, dict[str, FieldClass]] = {
    "patto": {
        "fonte": _S, "bisogno": _S, "note": _S, "patto_precedente": _A,
        "assegnatario": _A, "primo_colloquio_il": _S,
        "requisito_mancante": _A, "comunicata_il": _A,
        "bisogni": _S, "risorse": _S, "componenti_nucleo": _S,
        "canale": _A, "obiettivi": _S, "impegni_reciprocita": _S, "misura_economica": _A,
        "data_inizio": _A, "data_fine": _A, "firmatari": _A, "firma_assistente_sociale": _A,
        "informativa_privacy": _A,
        "incontro_il": _S, "ore_reciprocita": _S, "avanzamento": _S,
        "causa": _S, "diffida_del": _S,
        "raggiungimento": _S, "relazione": _S, "tasso_realizzazione": _S,
    },
    "fna_domanda": {
        "invalidita_104_art3c3": _H, "indennita_accompagnamento": _H, "scala": _H, "adl": _H, "iadl": _H,
        "misura": _A, "caregiver": _S, "assistente_personale": _S, "vive_solo": _S, "altre_misure": _A,
        "documenti_mancanti": _A, "misura_proposta": _A,
        "motivi": _A, "comunicato_il": _A, "osservazioni_ricevute": _A, "esame_osservazioni": _A,
        "mese_inizio": _A, "obblighi": _A, "contratto_assistente": _A,
        "mese": _A, "contributi_inps_verificati": _A,
        "causa": _A, "dal": _A, "mesi_erogati": _A, "piano_rispettato": _A,
    },
    "sad_caso": {
        "fonte": _S, "urgente": _C, "visita_domiciliare_il": _S, "adl": _H, "iadl": _H,
        "obiettivi": _C, "servizi": _C, "ore_settimanali": _C, "revisione_il": _C,
        "ore_mensili": _C, "valido_dal": _C, "valido_al": _C,
        "visita": _C, "visite": _C, "ore": _C, "mese": _C,
        "esito_revisione": _H,  # the PAI review: may carry clinical notes
        "obiettivi_raggiunti": _S, "quota_obiettivi": _S,
    },
}

# Case types read one by one by the planning office (the rest: aggregates), and by providers.
PLANNING_OFFICE_CASE_TYPES = frozenset({"fna_domanda"})
PROVIDER_CASE_TYPES = frozenset({"sad_caso"})
HEALTH_ASSESSOR_CASE_TYPES = frozenset({"fna_domanda"})

# Roles that work on case files (district-level records without a person are open to all of them).
STAFF_ROLES = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.CSC_ADMIN,
                         R.HEALTH_ASSESSOR})


@dataclass(frozen=True)
class AccessPolicy:
    """The configurable part of the rules (assumptions [A])."""

    minors_visible_to: frozenset[Role] = frozenset({R.SUBAREA_COORDINATOR})  # besides the owner [A]
    owner_only_fires: bool = True  # a social worker acts only on unassigned cases or their own [A]
    health_assessor_states: frozenset[str] = frozenset({"ASSESSMENT"})
    planning_office_case_types: frozenset[str] = PLANNING_OFFICE_CASE_TYPES
    provider_case_types: frozenset[str] = PROVIDER_CASE_TYPES
    health_assessor_case_types: frozenset[str] = HEALTH_ASSESSOR_CASE_TYPES


DEFAULT_POLICY = AccessPolicy()


@dataclass(frozen=True)
class Principal:
    """The user asking: role plus the keys of their scope."""

    username: str
    role: Role
    sub_ambito: str | None = None
    provider_codice: str | None = None
    comuni: frozenset[str] = frozenset()  # ISTAT codes the user works in (their sub-ambito's comuni)
    is_admin: bool = False  # manages accounts; grants no access to case files by itself
    full_name: str = field(default="", compare=False)  # for display only; decides nothing

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.sub_ambito, self.provider_codice)


@dataclass(frozen=True)
class CaseRef:
    """The keys of a case that authorisation looks at (no case data)."""

    case_type: str
    comune_istat: str | None = None
    sub_ambito: str | None = None
    owner: str | None = None
    provider_codice: str | None = None
    minor: bool = False
    state: str | None = None  # None: a case about to be opened


# ----------------------------------------------------------------------------- field classes


@dataclass(frozen=True)
class Classification:
    classes: Mapping[str, FieldClass]
    unclassified: frozenset[str] = field(default_factory=frozenset)


_CACHE: dict[str, tuple[Workflow, Classification]] = {}


def _workflow(case_type: str) -> Workflow | None:
    from domain.registry import get_workflow

    try:
        return get_workflow(case_type)
    except UnknownCaseType:
        return None


def _by_type(annotation: Any, metadata: list[Any]) -> FieldClass | None:
    """The class a field's declared type implies, if any (through Optional[...] and Annotated[...])."""
    if get_origin(annotation) in (Union, UnionType):
        found = {_by_type(a, []) for a in get_args(annotation) if a is not type(None)}
        return found.pop() if len(found) == 1 else None
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        inner = [m for e in extra for m in (getattr(e, "metadata", None) or [e])]
        return _by_type(base, [*metadata, *inner])
    if isinstance(annotation, type) and issubclass(annotation, Persona):
        return _I
    if isinstance(annotation, type) and issubclass(annotation, Isee):
        return _A
    validators = {getattr(m, "func", None) for m in metadata}
    if validate_codice_fiscale in validators:
        return _I
    if validate_iban in validators:
        return _A
    if annotation is Decimal and any(getattr(m, "decimal_places", None) == 2 for m in metadata):
        return _A  # domain.validation.Euro: an amount
    return None


def classify(wf: Workflow) -> Classification:
    """Every field a declaration can record (its transitions' data and what the engine adds) → its class."""
    cached = _CACHE.get(wf.case_type)
    if cached is not None and cached[0] is wf:
        return cached[1]
    table = CASE_TYPE_FIELDS.get(wf.case_type, {})
    personal = not (wf.district_level and not wf.has_person)
    fields: dict[str, Any] = {}
    for t in wf.transitions:
        if t.data is not None:
            fields.update({n: f for n, f in t.data.model_fields.items() if n not in fields})
            fields.update({n: None for n in t.data.model_computed_fields if n not in fields})
    if wf.outcome is not None:
        fields.setdefault("esito", None)
        if wf.outcome.measure_field:
            fields.setdefault(wf.outcome.measure_field, None)
    classes: dict[str, FieldClass] = {}
    unclassified: set[str] = set()
    for name, info in fields.items():
        found = table.get(name) or COMMON_FIELDS.get(name)
        if found is None and info is not None:
            found = _by_type(info.annotation, info.metadata)
        if found is None and not personal:
            found = _A  # a district-level record without a person holds no personal data
        if found is None:
            unclassified.add(name)
            found = _H  # fail closed: unknown fields are protected like health data
        classes[name] = found
    result = Classification(classes, frozenset(unclassified))
    _CACHE[wf.case_type] = (wf, result)
    return result


def field_classes(case_type: str) -> Mapping[str, FieldClass]:
    wf = _workflow(case_type)
    return classify(wf).classes if wf is not None else {}


def field_class(case_type: str, name: str) -> FieldClass:
    """The class of a key of a case's data; a key no declaration knows is health data (fail closed)."""
    known = field_classes(case_type).get(name)
    if known is not None:
        return known
    return CASE_TYPE_FIELDS.get(case_type, {}).get(name) or COMMON_FIELDS.get(name) or _H


def unclassified_fields(workflows: list[Workflow]) -> dict[str, set[str]]:
    return {wf.case_type: set(c.unclassified) for wf in workflows if (c := classify(wf)).unclassified}


def personal_case_type(case_type: str) -> bool:
    """A case about a person (patto, FNA application, SAD case), as opposed to a district-level record."""
    wf = _workflow(case_type)
    return wf is None or not (wf.district_level and not wf.has_person)


# ----------------------------------------------------------------------------- reading


def read_refusal(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> str | None:
    """None when `user` may read `case`; otherwise the Italian reason."""
    role = user.role
    if role is R.SYSTEM:
        return None
    if role is R.EVALUATOR:
        return "l'Organismo di Valutazione consulta solo dati aggregati"
    if role is R.BENEFICIARY:
        return "l'accesso dei beneficiari (portale) non è attivo"
    if not personal_case_type(case.case_type):
        if role is R.PROVIDER:
            if case.provider_codice and case.provider_codice == user.provider_codice:
                return None
            return "l'ente vede solo i propri atti di adesione e i casi SAD che lo hanno scelto"
        return None if role in STAFF_ROLES else "dati di distretto non accessibili al suo ruolo"
    scope = _personal_scope_refusal(user, case, policy)
    if scope is not None:
        return scope
    if case.minor and not (case.owner == user.username or role in policy.minors_visible_to):
        return "caso di un minore: accesso riservato all'assistente sociale titolare e al coordinatore di sub-ambito"
    return None


def _personal_scope_refusal(user: Principal, case: CaseRef, policy: AccessPolicy) -> str | None:
    role = user.role
    if role is R.SOCIAL_WORKER:
        if case.owner == user.username or (case.comune_istat is not None and case.comune_istat in user.comuni):
            return None
        return "il caso non appartiene ai comuni del suo sub-ambito"
    if role is R.SUBAREA_COORDINATOR:
        in_area = (case.sub_ambito is not None and case.sub_ambito == user.sub_ambito) or (
            case.comune_istat is not None and case.comune_istat in user.comuni)
        return None if in_area else "il caso non appartiene al suo sub-ambito"
    if role is R.CSC_ADMIN:
        return None
    if role is R.PLANNING_OFFICE:
        if case.case_type in policy.planning_office_case_types:
            return None
        return "l'Ufficio di Piano consulta singolarmente solo le domande FNA; gli altri casi in forma aggregata"
    if role is R.PROVIDER:
        if case.case_type in policy.provider_case_types and case.provider_codice is not None \
                and case.provider_codice == user.provider_codice:
            return None
        return "l'ente vede solo i casi SAD che lo hanno scelto"
    if role is R.HEALTH_ASSESSOR:
        if case.case_type in policy.health_assessor_case_types and (
                case.state is None or case.state in policy.health_assessor_states):
            return None
        return "il valutatore ASST vede solo le domande FNA inviate alla valutazione socio-sanitaria"
    return f"il ruolo «{ROLE_LABELS.get(role, role)}» non consulta casi"


def can_read_case(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> bool:
    return read_refusal(user, case, policy) is None


def visible_fields(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> frozenset[FieldClass]:
    """The field classes of `case` that `user` sees (empty if they may not read the case at all)."""
    if read_refusal(user, case, policy) is not None:
        return frozenset()
    if user.role is R.SYSTEM or not personal_case_type(case.case_type):
        return ALL_CLASSES
    role = user.role
    if role is R.SOCIAL_WORKER:
        return ALL_CLASSES if case.owner == user.username else ALL_CLASSES - {_H}
    if role in (R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE):
        return ALL_CLASSES
    if role is R.CSC_ADMIN:
        return frozenset({_I, _A, _C})
    if role is R.PROVIDER:
        return frozenset({_I, _C})
    if role is R.HEALTH_ASSESSOR:
        return frozenset({_I, _S, _H})
    return frozenset()


# ----------------------------------------------------------------------------- acting


def fire_refusal(
    user: Principal, case: CaseRef, transition: Transition, policy: AccessPolicy = DEFAULT_POLICY
) -> str | None:
    """None when `user` may fire `transition` on `case` (role in the declaration AND scope)."""
    if user.role not in transition.roles:
        allowed = ", ".join(sorted(ROLE_LABELS[r] for r in transition.roles))
        return f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non può eseguire «{transition.label}» " \
               f"(ammessi: {allowed})"
    if user.role is R.SYSTEM:
        return None
    opening = case.state is None
    if opening and not personal_case_type(case.case_type):
        return None  # a district-level record: the declaration's roles are the whole rule
    reason = read_refusal(user, case, policy)
    if reason is not None:
        return reason
    if (not opening and policy.owner_only_fires and user.role is R.SOCIAL_WORKER and case.owner
            and case.owner != user.username):
        return f"il caso è assegnato a «{case.owner}»: può procedere solo l'assegnatario"
    return None


def can_fire(user: Principal, case: CaseRef, transition: Transition, policy: AccessPolicy = DEFAULT_POLICY) -> bool:
    return fire_refusal(user, case, transition, policy) is None


# ----------------------------------------------------------------------------- minors


def is_minor(birth: date | None, today: date) -> bool:
    return birth is not None and age_on(birth, today) < 18


def minor_birth_cutoff(today: date) -> date:
    """Born after this day → under 18 on `today` (29 February counts as 28 in a common year)."""
    try:
        return today.replace(year=today.year - 18)
    except ValueError:
        return today.replace(year=today.year - 18, day=28)
