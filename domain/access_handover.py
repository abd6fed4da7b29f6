"""Who may hand a case over, name deputies and transfer a case (DOMAIN.md §13): part of the ONE access decision,
kept in its own file beside domain/access.py (which re-exports it) only because of the file-size rule. Pure.

- the sub-ambito coordinator reassigns a case of their sub-ambito and names deputies for its social workers;
- a case moves to another sub-ambito (transfer) by its current coordinator or by the Ufficio di Piano;
- a deputy (sostituto) acts on the absent worker's cases as that worker while the period lasts: the user's
  `Principal.represents` lists the workers they stand in for today, `OwnerIsUser` (read scope, fields, Oggi)
  and `fire_refusal` honour it, and `acting_for` names the worker each act is recorded on behalf of.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from domain.conditions import CaseRef, Principal
from domain.workflow import ROLE_LABELS, Role

if TYPE_CHECKING:
    from domain.access import AccessPolicy

R = Role
TRANSFER_ROLES = frozenset({R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE})


def _policy() -> AccessPolicy:
    from domain.access import DEFAULT_POLICY

    return DEFAULT_POLICY


def _role(user: Principal) -> str:
    return ROLE_LABELS.get(user.role, str(user.role))


def acting_for(user: Principal, case: CaseRef) -> str | None:
    """The worker on whose behalf `user` acts on `case` as their deputy; None for one's own case (or no deputy)."""
    if user.role is R.SOCIAL_WORKER and case.owner and case.owner != user.username and case.owner in user.represents:
        return case.owner
    return None


def handover_refusal(user: Principal, case: CaseRef, policy: AccessPolicy | None = None) -> str | None:
    """None when `user` may reassign `case` (one case or in a bulk hand-over): the coordinator of its
    sub-ambito, on a case about a person."""
    from domain.access import personal_case_type, read_refusal

    if user.role is not R.SUBAREA_COORDINATOR:
        return f"il ruolo «{_role(user)}» non riassegna i casi: lo fa il coordinatore di sub-ambito"
    if not personal_case_type(case.case_type):
        return "un atto di distretto non ha un assistente sociale titolare"
    return read_refusal(user, case, policy or _policy())


def transfer_refusal(user: Principal, case: CaseRef, policy: AccessPolicy | None = None) -> str | None:
    """None when `user` may transfer `case` to a comune of another sub-ambito: its coordinator, or the UdP (for
    the cases it reads one by one: FNA applications)."""
    from domain.access import personal_case_type, read_refusal

    if user.role not in TRANSFER_ROLES:
        return (f"il ruolo «{_role(user)}» non trasferisce i casi: lo fanno il coordinatore del sub-ambito "
                "e l'Ufficio di Piano")
    if not personal_case_type(case.case_type) or case.comune_istat is None:
        return "il caso non appartiene a un comune: non si trasferisce"
    return read_refusal(user, case, policy or _policy())  # the UdP too: nobody moves a case they may not read


def passage_offered(user: Principal, case: CaseRef) -> bool:
    """Whether the case page links to its «Passaggio» page (reassign or transfer) for `user`."""
    return handover_refusal(user, case) is None or transfer_refusal(user, case) is None


def handover_page_refusal(user: Principal) -> str | None:
    """None when `user` may open «Consegne e sostituti» (hand over a worker's cases, name deputies)."""
    if user.role is not R.SUBAREA_COORDINATOR:
        return f"il ruolo «{_role(user)}» non consegna casi né nomina sostituti: lo fa il coordinatore di sub-ambito"
    return None


def deputy_refusal(user: Principal, worker_sub_ambito: str | None) -> str | None:
    """None when `user` may name (or end) a deputy for a social worker of `worker_sub_ambito`."""
    if user.role is not R.SUBAREA_COORDINATOR:
        return f"il ruolo «{_role(user)}» non nomina sostituti: lo fa il coordinatore di sub-ambito"
    if worker_sub_ambito is None or worker_sub_ambito != user.sub_ambito:
        return "l'assistente sociale non lavora nel suo sub-ambito"
    return None
