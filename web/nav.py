"""The main menu and each role's landing page, derived from the same decisions the pages enforce.

Every page of the menu names ONE refusal function (None: the user may open it; otherwise the Italian reason),
taken from where the access decision lives:

- «Oggi» and «Casi»: whoever works on case files (`domain.access.case_files_refusal`);
- «Nuova segnalazione»: whoever may open a personal case type (`domain.access.opening_refusal`);
- each case type's own pages (the FNA calls, the provider portal) as its declaration lists them
  (`CaseType.menu`, with their refusal);
- «Cruscotto»: `services.dashboard.dashboard_refusal`; «Regione» (indicators per Ambito, the regional reader):
  `domain.access.regional_refusal`; «Ambiti» (the instance administrator): `domain.access.ambiti_refusal`; «Relazione annuale»: `domain.access.report_refusal`;
  «SIUSS» (the flows to INPS's Casellario): `domain.access.siuss_refusal`;
  «Posta in uscita»: `services.outbox_admin.outbox_refusal`;
- «Consegne e sostituti»: the sub-ambito coordinator (`domain.access.handover_page_refusal`);
- «Importazione»: `domain.access.import_refusal` (coordinators and the Ufficio di Piano);
- «Profilo»: everyone.

The menu lists exactly the pages whose refusal is None; `guard_page` (a dependency of every page router)
refuses a menu page to anyone else with the same reason, so a menu entry cannot lead to a refusal and no page
that works for a role can be missing from its menu. A user lands on the first page of their menu, in the
order below (the day's work first, then the cases, then what the role is for).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from domain.access import (AccessDenied, Principal, ambiti_refusal, case_files_refusal, handover_page_refusal,
                           import_refusal, opening_refusal, regional_refusal, report_refusal, siuss_refusal)
from domain.registry import all_case_types
from services.dashboard import dashboard_refusal
from services.outbox_admin import outbox_refusal
from web.deps import current_user


def _everyone(principal: Principal) -> str | None:
    return None


@dataclass(frozen=True)
class Page:
    label: str
    href: str
    refusal: Callable[[Principal], str | None]


def pages() -> list[Page]:
    """Every page of the main menu, in menu order."""
    items = [
        Page("Oggi", "/oggi", case_files_refusal),
        Page("Casi", "/casi", case_files_refusal),
        Page("Nuova segnalazione", "/casi/nuovo", opening_refusal),
    ]
    seen = {p.href for p in items}
    for ct in all_case_types():
        for m in ct.menu:
            if m.href not in seen:
                seen.add(m.href)
                items.append(Page(m.label, m.href, m.refusal))
    items += [
        Page("Consegne e sostituti", "/consegne", handover_page_refusal),
        Page("Cruscotto", "/cruscotto", dashboard_refusal),
        Page("Regione", "/regione", regional_refusal),
        Page("Relazione annuale", "/relazione", report_refusal),
        Page("SIUSS", "/siuss", siuss_refusal),
        Page("Importazione", "/importa", import_refusal),
        Page("Posta in uscita", "/admin/posta", outbox_refusal),
        Page("Ambiti", "/ambiti", ambiti_refusal),
        Page("Profilo", "/profilo", _everyone),
    ]
    return items


def nav_for(principal: Principal) -> list[Page]:
    """The menu of `principal`: the pages they may open."""
    return [p for p in pages() if p.refusal(principal) is None]


def landing_for(principal: Principal) -> str:
    """Where `principal` lands after logging in (and on /): the first page of their menu."""
    return nav_for(principal)[0].href


def menu_page(path: str) -> Page | None:
    return next((p for p in pages() if p.href == path), None)


async def guard_page(request: Request) -> None:
    """Refuse a menu page to a user whose menu does not list it, with the page's own reason. Other paths
    are left alone (the login page, the calendar feed, a case page: each decides for itself)."""
    page = menu_page(request.url.path)
    if page is None:
        return
    reason = page.refusal((await current_user(request)).principal)
    if reason is not None:
        raise AccessDenied(reason)
