"""The main menu: which pages each role sees (the pages themselves check scope in the service layer)."""
from __future__ import annotations

from dataclasses import dataclass

from domain.workflow import Role

R = Role
STAFF = frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.CSC_ADMIN, R.HEALTH_ASSESSOR})


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]
    admin_only: bool = False


NAV = [
    NavItem("Oggi", "/oggi", STAFF | {R.PROVIDER}),
    NavItem("Casi", "/casi", STAFF | {R.PROVIDER}),
    NavItem("Nuova segnalazione", "/casi/nuovo", frozenset({R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR})),
    NavItem("Bandi FNA", "/fna/bandi", frozenset({R.PLANNING_OFFICE, R.CSC_ADMIN, R.SUBAREA_COORDINATOR})),
    NavItem("Portale ente", "/ente", frozenset({R.PROVIDER})),
    NavItem("Cruscotto", "/cruscotto", frozenset({R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.EVALUATOR,
                                                  R.CSC_ADMIN})),
    NavItem("Posta in uscita", "/admin/posta", frozenset(Role), admin_only=True),
]


def nav_for(role: Role, is_admin: bool) -> list[NavItem]:
    return [n for n in NAV if role in n.roles and (is_admin or not n.admin_only)]
