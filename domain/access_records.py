"""Access decisions about a case's records and the office's registers (part of the single access module).

`domain.access` decides reading and acting on a case; this module holds, on the same rules (`read_refusal`,
`visible_fields`), who writes and reads the case diary (§13), generates acts and files documents (§14), keeps
the register of people (§13), and downloads the yearly report, imports cases and sends the SIUSS flows (§15).
Every name here is re-exported by `domain.access`: callers import them from there.
"""
from __future__ import annotations

from collections.abc import Iterable

from domain.access import (DEFAULT_POLICY, AccessPolicy, CaseRef, Principal, _A, _H, _S, personal_case_type,
                           read_refusal, visible_fields)
from domain.fields import FIELD_CLASS_LABELS, FieldClass
from domain.workflow import ROLE_LABELS, Role as R


# ----------------------------------------------------------------------------- the case diary
DIARY_CLASSES = frozenset({_S, _H})  # a diary entry is a social note or a health note (domain/diary.py)
DIARY_WRITERS = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.HEALTH_ASSESSOR})


def diary_classes(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> frozenset[FieldClass]:
    """The classes of diary entries `user` reads on `case`: those of its fields they see."""
    return visible_fields(user, case, policy) & DIARY_CLASSES


def diary_refusal(user: Principal, case: CaseRef, data_class: FieldClass,
                  policy: AccessPolicy = DEFAULT_POLICY) -> str | None:
    """None when `user` may write a diary entry of `data_class` on `case`: a role that works on cases, within
    the read scope, and only of a class they see (a colleague's case: social notes, not health ones)."""
    reason = read_refusal(user, case, policy)
    if reason is not None:
        return reason
    if user.role not in DIARY_WRITERS:
        return f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non scrive nel diario dei casi"
    if data_class not in diary_classes(user, case, policy):
        return f"non può registrare {FIELD_CLASS_LABELS[data_class]} su questo caso"
    return None


# ----------------------------------------------------------------------------- generated acts

ACT_WRITERS = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.CSC_ADMIN, R.PLANNING_OFFICE})


def act_refusal(user: Principal, case: CaseRef, classes: frozenset[FieldClass],
                policy: AccessPolicy = DEFAULT_POLICY) -> str | None:
    """None when `user` may generate an act printing data of `classes` on `case` (domain/acts.py): a role that
    issues the office's papers, within the read scope, seeing every class the act prints (an act with health
    data only for who reads the case's health data)."""
    reason = read_refusal(user, case, policy)
    if reason is not None:
        return reason
    if user.role not in ACT_WRITERS:
        return f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non genera gli atti dei casi"
    hidden = classes - visible_fields(user, case, policy)
    if hidden:
        return "l'atto contiene " + ", ".join(sorted(FIELD_CLASS_LABELS[c] for c in hidden)) + \
            " che l'utente non può consultare su questo caso"
    return None


# ----------------------------------------------------------------------------- the person's identity (§13)

IDENTITY_KEEPERS = frozenset({R.SUBAREA_COORDINATOR, R.CSC_ADMIN})


def identity_refusal(user: Principal, cases: Iterable[CaseRef], policy: AccessPolicy = DEFAULT_POLICY, *,
                     every: bool = True) -> str | None:
    """None when `user` may change a person's identity: a role that keeps the register of people (coordinator,
    CSC) reading every one of `cases` (merging a code: all the person's cases), or one of them (`every` False:
    resolving a discrepancy, `cases` being those that show the stored identity)."""
    if user.role not in IDENTITY_KEEPERS:
        return (f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non modifica l'anagrafica delle persone "
                "(la modificano: " + ", ".join(sorted(ROLE_LABELS[r] for r in IDENTITY_KEEPERS)) + ")")
    readable = [read_refusal(user, c, policy) is None for c in cases]
    if not (all(readable) if every else any(readable)):
        return "la persona ha casi che lei non può consultare: rivolgersi all'Ufficio di Piano"
    return None


# ----------------------------------------------------------------------------- documents (§14)

DOCUMENT_WRITERS = DIARY_WRITERS | {R.CSC_ADMIN, R.SYSTEM}  # CSC files ISEE attestations; the system, acts


def document_classes(user: Principal, case: CaseRef, policy: AccessPolicy = DEFAULT_POLICY) -> frozenset[FieldClass]:
    """Classes of documents `user` reads on `case`: social with its social or administrative data, health with its
    health data."""
    seen = visible_fields(user, case, policy)
    return frozenset({_S} if seen & {_S, _A} else ()) | (seen & {_H})


def document_refusal(user: Principal, case: CaseRef, data_class: FieldClass, *, write: bool,
                     policy: AccessPolicy = DEFAULT_POLICY, generated: bool = False) -> str | None:
    """None when `user` may read (`write`: add) a document of `data_class` on `case`; a generated act is filed
    by who may generate acts (`act_refusal`, which checked every class the act prints)."""
    if write and generated:
        reason = act_refusal(user, case, frozenset(), policy)
        if reason is not None:
            return reason
    elif write and user.role not in DOCUMENT_WRITERS:
        return f"il ruolo «{ROLE_LABELS.get(user.role, user.role)}» non aggiunge documenti ai casi"
    if data_class not in document_classes(user, case, policy):
        kind = "sanitario" if data_class is _H else "del caso"
        return read_refusal(user, case, policy) or f"documento {kind} riservato: non accessibile al suo ruolo"
    return None


# ----------------------------------------------------------------------------- the office's registers (§15)

REPORT_READERS = frozenset({R.PLANNING_OFFICE, R.EVALUATOR})  # the yearly report's (DOMAIN.md §15)


def report_refusal(user: Principal) -> str | None:
    """None if `user` may download the yearly report (the case list's export is `read_scope`'s, a case's PDF a read)."""
    return None if user.role in REPORT_READERS else \
        "la relazione annuale si scarica solo dall'Ufficio di Piano e dall'Organismo di Valutazione"
IMPORTERS = frozenset({R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE})  # who loads existing cases (DOMAIN.md §15)


def import_refusal(user: Principal, case_type: str | None = None, comune_istat: str | None = None) -> str | None:
    """None if `user` may load cases of `case_type` (None: of some type; the import page) from a spreadsheet, in
    `comune_istat` when given: the Ufficio di Piano any type, a sub-ambito coordinator the personal types, in the
    comuni of the sub-ambito only."""
    if user.role not in IMPORTERS:
        return "importano i casi esistenti il coordinatore di sub-ambito e l'Ufficio di Piano"
    if user.role is R.SUBAREA_COORDINATOR and case_type is not None and not personal_case_type(case_type):
        return "i registri di Ambito (bandi, adesioni) li importa l'Ufficio di Piano"
    if user.role is R.SUBAREA_COORDINATOR and comune_istat is not None and comune_istat not in user.comuni:
        return f"il comune {comune_istat} non è nel sub-ambito {user.sub_ambito}"
    return None


def siuss_refusal(user: Principal) -> str | None:
    """None if `user` may produce, read and download the SIUSS flows and record INPS's outcomes: the UdP of the
    default Ambito only (the flows, their numbering and the sending body are still one per instance; the export
    carries only that Ambito's cases)."""
    if user.role is not R.PLANNING_OFFICE:
        return "i flussi SIUSS verso INPS sono riservati all'Ufficio di Piano"
    if user.ambito is not None and not user.ambito.default:  # tenancy: one flow series, the default Ambito's
        return ("i flussi SIUSS sono ancora uno per istanza, dell'Ambito predefinito: l'Ufficio di Piano di un "
                "altro Ambito non li produce né li legge")
    return None



# ----------------------------------------------------------------------------- across Ambiti (issue 15)


def regional_refusal(user: Principal) -> str | None:
    """None if `user` may read the indicators of every Ambito side by side (the «Regione» page, its API and
    `legami tally --regione`): the regional reader only, who belongs to no Ambito and reads no case."""
    return None if user.role is R.REGIONAL_READER else \
        "gli indicatori per Ambito dell'intera istanza sono riservati al lettore regionale"


def ambiti_refusal(user: Principal) -> str | None:
    """None if `user` may list the instance's Ambiti and see each one's set-up (the «Ambiti» pages): the
    administrator of the instance (`is_admin`, who manages the accounts of every Ambito)."""
    return None if user.is_admin else "gli Ambiti dell'istanza li consulta solo l'amministratore dell'istanza"
