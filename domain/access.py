"""Who may read a case, which of its fields, and who may fire its transitions (DOMAIN.md §2): ONE decision.

The read scope and the "deadlines I answer for" scope are written once, here, as a small tree of conditions
(`Cond`) over a case's keys (type, comune, sub-ambito, owner, provider, state, minor), evaluated in Python for
one case (`read_refusal`) and compiled to SQL for lists, Oggi, feeds, exports and tallies
(`store.access_sql.to_sql`), so the two cannot drift. Which types each role reads one by one, the ASST
assessor's states, who answers for deadlines and who processes minors' cases come from `CaseType.audience`;
field classes from `CaseType.fields` (nested paths included). Assumptions [A], configurable (`AccessPolicy`):
- minors' cases are read only by their owner and the sub-ambito coordinator (DOMAIN.md §2), besides the roles
  a case type names as processing minors' cases (FNA: CSC, the comune's social worker, UdP, ASST; logged);
- a social worker fires a transition on a case assigned to a colleague only if `owner_only_fires` is off, or
  as that colleague's deputy (sostituto) while the deputyship lasts (`Principal.represents`, access_handover.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.conditions import (  # noqa: F401  (re-exported: the conditions and the keys they look at)
    FALSE,
    TRUE,
    AllOf,
    Always,
    AmbitoScope,
    AnyOf,
    CaseRef,
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
    holds,
    is_minor,
    minor_birth_cutoff,
)
from domain.errors import DomainError
from domain.fields import ALL_CLASSES, FIELD_CLASS_LABELS, FieldClass  # noqa: F401  (re-exported)
from domain.workflow import ROLE_LABELS, Role, Transition, Workflow

if TYPE_CHECKING:
    from domain.casetype import CaseType

R = Role
_I, _A, _S, _H, _C = (FieldClass.IDENTITY, FieldClass.ADMINISTRATIVE, FieldClass.SOCIAL, FieldClass.HEALTH,
                      FieldClass.CARE_PLAN)
F = FieldClass

# Roles that work on case files (district-level records without a person are open to all of them).
STAFF_ROLES = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.CSC_ADMIN,
                         R.HEALTH_ASSESSOR})


class AccessDenied(DomainError):
    """The user may not read the case or fire the transition; str() is the Italian reason."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"accesso negato: {reason}")


@dataclass(frozen=True)
class AccessPolicy:
    """The configurable part of the rules (assumptions [A])."""

    minors_visible_to: frozenset[Role] = frozenset({R.SUBAREA_COORDINATOR})  # besides the owner [A]
    owner_only_fires: bool = True  # a social worker acts only on unassigned cases or their own [A]


DEFAULT_POLICY = AccessPolicy()


# ----------------------------------------------------------------------------- the case types


def _case_type(case_type: str) -> CaseType | None:
    from domain.registry import find_case_type

    return find_case_type(case_type)


def _types() -> list[CaseType]:
    from domain.registry import all_case_types

    return all_case_types()


def personal_case_type(case_type: str) -> bool:
    """A case about a person (patto, FNA application, SAD case), as opposed to a district-level record."""
    ct = _case_type(case_type)
    return ct is None or ct.personal


def district_types() -> frozenset[str]:
    return frozenset(ct.case_type for ct in _types() if not ct.personal)


def types_read_by(role: Role) -> frozenset[str]:
    """The personal case types `role` reads one by one although it has no territorial scope."""
    return frozenset(ct.case_type for ct in _types() if role in ct.audience.read_by)


def deadline_types(role: Role) -> frozenset[str]:
    return frozenset(ct.case_type for ct in _types() if role in ct.audience.deadlines_for)


def minors_types(role: Role) -> frozenset[str]:
    return frozenset(ct.case_type for ct in _types() if role in ct.audience.minors_read_by)


@dataclass(frozen=True)
class Gate:
    """A condition every readable case meets, and the Italian reason given when it does not."""

    cond: Cond
    reason: str


_PERSONAL_REASONS = {
    R.SOCIAL_WORKER: "il caso non appartiene ai comuni del suo sub-ambito",
    R.SUBAREA_COORDINATOR: "il caso non appartiene al suo sub-ambito",
    R.PLANNING_OFFICE: "l'Ufficio di Piano consulta singolarmente solo le domande FNA; gli altri casi in forma "
                       "aggregata",
    R.PROVIDER: "l'ente vede solo i casi SAD che lo hanno scelto",
    R.HEALTH_ASSESSOR: "il valutatore ASST vede solo le domande FNA inviate alla valutazione socio-sanitaria",
}
REGIONAL_REASON = "il lettore regionale consulta solo dati aggregati per Ambito (pagina Regione)"
_MINOR_REASON = "caso di un minore: accesso riservato all'assistente sociale titolare e al coordinatore di sub-ambito"


def _personal_scope(role: Role) -> Cond:
    area = AnyOf((ComuneInUserComuni(), InUserSubAmbito()))
    if role is R.SOCIAL_WORKER:
        return AnyOf((OwnerIsUser(), ComuneInUserComuni()))
    if role is R.SUBAREA_COORDINATOR:
        return area
    if role is R.CSC_ADMIN:
        return TRUE
    if role is R.PLANNING_OFFICE:
        return TypeIn(types_read_by(role))
    if role is R.PROVIDER:
        return AllOf((TypeIn(types_read_by(role)), ProviderIsUser()))
    if role is R.HEALTH_ASSESSOR:
        return AnyOf(tuple(AllOf((TypeIn(frozenset({ct.case_type})), StateIn(ct.audience.assessor_states)))
                           for ct in _types() if role in ct.audience.read_by))
    return FALSE


def _district_scope(role: Role) -> Cond:
    if role is R.PROVIDER:
        providers = frozenset(ct.case_type for ct in _types() if not ct.personal and R.PROVIDER in ct.audience.read_by)
        return AllOf((TypeIn(providers), ProviderIsUser()))
    return TRUE if role in STAFF_ROLES else FALSE


def read_gates(user: Principal, policy: AccessPolicy = DEFAULT_POLICY) -> tuple[Gate, ...]:
    """The read scope of `user`: every gate must hold. `read_refusal` and `store.access_sql` both read this.
    Gates depend on the role, the policy and the case types alone (a case page weighs them ~50 times): kept."""
    from domain.registry import generation

    key = (user.role, policy)
    found = _GATES.get(key)
    if found is None or found[0] != generation():
        found = _GATES[key] = (generation(), _read_gates(user.role, policy))
    return found[1]


_GATES: dict[tuple[Role, AccessPolicy], tuple[int, tuple[Gate, ...]]] = {}


def _read_gates(role: Role, policy: AccessPolicy) -> tuple[Gate, ...]:
    if role is R.SYSTEM:
        return ()
    if role is R.EVALUATOR:
        return (Gate(FALSE, "l'Organismo di Valutazione consulta solo dati aggregati"),)
    if role is R.REGIONAL_READER:
        return (Gate(FALSE, REGIONAL_REASON),)
    if role is R.BENEFICIARY:
        return (Gate(FALSE, "l'accesso dei beneficiari (portale) non è attivo"),)
    district = TypeIn(district_types())
    district_reason = ("l'ente vede solo i propri atti di adesione e i casi SAD che lo hanno scelto"
                       if role is R.PROVIDER else "dati di distretto non accessibili al suo ruolo")
    gates = [
        Gate(InUserAmbito(), "il caso appartiene a un altro Ambito"),  # every role, every entrance: tenancy
        Gate(AnyOf((Not(district), _district_scope(role))), district_reason),
        Gate(AnyOf((district, _personal_scope(role))),
             _PERSONAL_REASONS.get(role, f"il ruolo «{ROLE_LABELS.get(role, role)}» non consulta casi")),
    ]
    if role not in policy.minors_visible_to:
        gates.append(Gate(AnyOf((district, Not(IsMinor()), OwnerIsUser(), TypeIn(minors_types(role)))),
                          _MINOR_REASON))
    return tuple(gates)


def read_scope(user: Principal, policy: AccessPolicy = DEFAULT_POLICY) -> Cond:
    return AllOf(tuple(g.cond for g in read_gates(user, policy)))


def case_files_refusal(user: Principal, policy: AccessPolicy = DEFAULT_POLICY) -> str | None:
    """None if `user` works on case files at all (Oggi, the case list); otherwise the reason of the read gate
    that closes every case to the role (the evaluator reads aggregates only)."""
    return next((g.reason for g in read_gates(user, policy) if g.cond == FALSE), None)


def answers_for(user: Principal) -> Cond:
    """The cases whose deadlines are `user`'s to meet or to chase (Oggi, calendar feed, digests): always
    combined with the read scope, never wider."""
    role = user.role
    if role is R.SOCIAL_WORKER:
        return OwnerIsUser()
    if role is R.SUBAREA_COORDINATOR:
        return AnyOf((ComuneInUserComuni(), InUserSubAmbito()))
    if role is R.PROVIDER:
        return AllOf((TypeIn(deadline_types(role)), ProviderIsUser()))
    return TypeIn(deadline_types(role))


# ----------------------------------------------------------------------------- field classes


def field_map(case_type: str):  # -> domain.fields.FieldMap | None
    ct = _case_type(case_type)
    return ct.field_map if ct is not None else None


def field_classes(case_type: str) -> Mapping[str, FieldClass]:
    fm = field_map(case_type)
    return fm.top if fm is not None else {}


def field_class(case_type: str, name: str) -> FieldClass:
    """The class of a top-level key of a case's data; a key no declaration knows is health data (fail closed)."""
    fm = field_map(case_type)
    return fm.of(name) if fm is not None else _H


def unclassified_fields(workflows: list[Workflow]) -> dict[str, set[str]]:
    from domain.casetype import unclassified

    found = {}
    for wf in workflows:
        ct = _case_type(wf.case_type)
        missing = unclassified(ct) if ct is not None else set()
        if missing:
            found[wf.case_type] = missing
    return found


# ----------------------------------------------------------------------------- reading


def read_refusal(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> str | None:
    """None when `user` may read `case`; otherwise the Italian reason."""
    for gate in read_gates(user, policy):
        if not holds(gate.cond, user, case):
            return gate.reason
    return None


def can_read_case(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> bool:
    return read_refusal(user, case, policy) is None


def read_as_minor_processor(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> bool:
    """`user` reads this minor's case only because its type names the role among those processing minors'
    cases (not as owner or coordinator): such reads are logged."""
    return (case.minor and user.role not in policy.minors_visible_to and case.owner != user.username
            and case.case_type in minors_types(user.role) and can_read_case(user, case, policy))


_CLASSES_BY_ROLE: dict[Role, frozenset[FieldClass]] = {
    R.SUBAREA_COORDINATOR: ALL_CLASSES,
    R.PLANNING_OFFICE: ALL_CLASSES,
    R.CSC_ADMIN: frozenset({_I, _A, _C}),
    R.PROVIDER: frozenset({_I, _C}),
    R.HEALTH_ASSESSOR: frozenset({_I, _S, _H}),
}


def visible_fields(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> frozenset[FieldClass]:
    """The field classes of `case` that `user` sees (empty if they may not read the case at all).

    A district-level record (no person) is shown whole to its readers, except the health class: health
    data copied into it (an FNA call's ranking snapshot) is seen only by the roles that see health data of
    the cases it comes from (the planning office, which ranks them)."""
    if read_refusal(user, case, policy) is not None:
        return frozenset()
    role = user.role
    if role is R.SYSTEM:
        return ALL_CLASSES
    if not personal_case_type(case.case_type):
        return ALL_CLASSES if role is R.PLANNING_OFFICE else ALL_CLASSES - {_H}
    if role is R.SOCIAL_WORKER:  # the owner, or their deputy while the deputyship lasts, sees health data
        return ALL_CLASSES if holds(OwnerIsUser(), user, case) else ALL_CLASSES - {_H}
    return _CLASSES_BY_ROLE.get(role, frozenset())


# ----------------------------------------------------------------------------- acting


def fire_refusal(
    user: Principal, case: CaseRef, transition: Transition, policy: AccessPolicy = DEFAULT_POLICY,
    *, owner_name: str | None = None,
) -> str | None:
    """None when `user` may fire `transition` on `case` (role in the declaration AND scope). `owner_name`
    (display only) names the case's owner in the reason instead of the username."""
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
            and not holds(OwnerIsUser(), user, case)):  # the owner's deputy acts as the owner (access_handover)
        return f"il caso è assegnato a «{owner_name or case.owner}»: può procedere solo l'assegnatario"
    return None


def can_fire(user: Principal, case: CaseRef, transition: Transition, policy: AccessPolicy = DEFAULT_POLICY) -> bool:
    return fire_refusal(user, case, transition, policy) is None


def openable(role: Role) -> list[tuple[Workflow, Transition]]:
    """The personal case types (and their opening transition) `role` may open as a new referral: those whose
    opening transition names the role (district records, FNA calls and adhesions, have their own pages)."""
    out = []
    for ct in _types():
        if ct.workflow.district_level:
            continue
        t = next((t for t in ct.workflow.opening_transitions() if role in t.roles), None)
        if t is not None:
            out.append((ct.workflow, t))
    return out


def opening_refusal(user: Principal) -> str | None:
    """None if `user` may open a new referral of some type (the «Nuova segnalazione» page); otherwise who can."""
    if openable(user.role):
        return None
    who = sorted(ROLE_LABELS[r] for r in Role if r not in (R.SYSTEM, R.BENEFICIARY) and openable(r))
    return (f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non apre nuove segnalazioni"
            + (f" (le apre: {', '.join(who)})" if who else ""))


# ----------------------------------------------------------------------------- who acts next


@dataclass(frozen=True)
class WhoActs:
    """A user who may fire a transition on a case, described by role and position (not a person): the owner
    (`username`) for a social worker when only the owner acts, else anyone of the role in `sub_ambito` (the
    case's), at `provider_codice` (the case's provider), or district-wide (both None)."""

    role: Role
    username: str | None = None
    sub_ambito: str | None = None
    provider_codice: str | None = None


_NOBODY = "\0"  # a username no user has: a stand-in user is never taken for the case's owner by mistake
_AREA_ROLES = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR})


def who_may_fire(case: CaseRef, transition: Transition, policy: AccessPolicy = DEFAULT_POLICY) -> tuple[WhoActs, ...]:
    """Who may fire `transition` on `case`, as roles placed where the case is: for each role the declaration
    names, a stand-in user of that role in the case's sub-ambito (its comune among theirs), at its provider, and
    (a social worker, when only the owner acts) being its owner, is put to `fire_refusal`, so the answer is
    the access decision itself. The system (automatic steps) is left out."""
    found = []
    for role in sorted(transition.roles - {R.SYSTEM}, key=lambda r: list(Role).index(r)):
        owner = case.owner if role is R.SOCIAL_WORKER and case.owner and policy.owner_only_fires else None
        area = role in _AREA_ROLES
        stand_in = Principal(owner or _NOBODY, role, case.sub_ambito if area else None,
                             case.provider_codice if role is R.PROVIDER else None,
                             frozenset({case.comune_istat}) if area and case.comune_istat else frozenset())
        if fire_refusal(stand_in, case, transition, policy) is None:
            found.append(WhoActs(role, owner, stand_in.sub_ambito, stand_in.provider_codice))
    return tuple(found)


from domain.access_handover import (acting_for, deputy_refusal, handover_page_refusal, handover_refusal,  # noqa
                                    passage_offered, transfer_refusal)
from domain.access_records import (DIARY_CLASSES, DIARY_WRITERS, DOCUMENT_WRITERS, IMPORTERS,  # noqa: E402,F401
                                   REPORT_READERS, act_refusal, ambiti_refusal, diary_classes, diary_refusal,
                                   document_classes, document_refusal, identity_refusal, import_refusal,
                                   regional_refusal, report_refusal, siuss_refusal)
