"""The main menu, derived from what each role can do (the same decisions the pages enforce).

- "Oggi" and "Casi": roles that read case files (`domain.access.STAFF_ROLES`) and providers;
- "Nuova segnalazione": roles that may open a personal case type (`domain.access.openable`);
- "Cruscotto": the roles `services.dashboard` admits;
- each case type's own pages (the FNA calls, the provider portal) as its declaration lists them (`CaseType.menu`);
- "Posta in uscita": administrators.
"""
from __future__ import annotations

from dataclasses import dataclass

from domain.access import STAFF_ROLES, openable
from domain.registry import all_case_types
from domain.workflow import Role
from services.dashboard import DASHBOARD_ROLES

R = Role


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]
    admin_only: bool = False


def menu() -> list[NavItem]:
    items = [
        NavItem("Oggi", "/oggi", STAFF_ROLES | {R.PROVIDER}),
        NavItem("Casi", "/casi", STAFF_ROLES | {R.PROVIDER}),
        NavItem("Nuova segnalazione", "/casi/nuovo", frozenset(r for r in STAFF_ROLES if openable(r))),
    ]
    seen: set[str] = set()
    for ct in all_case_types():
        for m in ct.menu:
            if m.href not in seen:
                seen.add(m.href)
                items.append(NavItem(m.label, m.href, m.roles))
    items.append(NavItem("Cruscotto", "/cruscotto", DASHBOARD_ROLES))
    items.append(NavItem("Posta in uscita", "/admin/posta", frozenset(Role), admin_only=True))
    return items


def nav_for(role: Role, is_admin: bool) -> list[NavItem]:
    return [n for n in menu() if role in n.roles and (is_admin or not n.admin_only)]
