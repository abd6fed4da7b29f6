"""Across Ambiti (issue 15): «Regione», the regional reader's indicators per Ambito and distretto, and «Ambiti»,
the instance administrator's list of the Ambiti and each one's set-up. Access is decided in domain.access
(`regional_refusal`, `ambiti_refusal`): the menu pages through web.nav.guard_page, an Ambito's page here."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request

from domain.access import AccessDenied, ambiti_refusal
from domain.errors import InvalidData
from domain.validation import FieldError
from reports import format as fmt
from services.ambiti import ambiti_summary, ambito_detail
from services.dashboard import available_years
from services.regional import regional_indicators
from web.deps import CurrentUser, current_user, services
from web.routes.dashboard import _year
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/regione")
async def regione(request: Request, anno: str | None = None, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    today = svc.today()
    years = available_years(svc.engine, today)
    year = _year(anno) or today.year
    if year not in years:
        raise InvalidData([FieldError("anno", "Anno", f"anno {year} non disponibile (da {years[-1]} a {years[0]})")])
    body = regional_indicators(svc.engine, user.principal, year=year, as_of=min(today, date(year, 12, 31)))
    threshold = body["soglia_riservatezza"] or 0

    def shown(c: dict | None, unit: str) -> str:
        return fmt.cell(c, unit, threshold) if c else fmt.MISSING

    return render(request, "regione.html", {"titolo": "Regione", "r": body, "anni": years, "mostra": shown,
                                            "nascosto": fmt.hidden(threshold)})


def _authorize(user: CurrentUser) -> None:
    reason = ambiti_refusal(user.principal)
    if reason is not None:
        raise AccessDenied(reason)


@router.get("/ambiti")
async def ambiti(request: Request, user: CurrentUser = Depends(current_user)):
    _authorize(user)
    return render(request, "ambiti/elenco.html", {"titolo": "Ambiti", "ambiti": ambiti_summary(services(request).engine)})


@router.get("/ambiti/{code}")
async def ambito(request: Request, code: str, user: CurrentUser = Depends(current_user)):
    _authorize(user)
    a = ambito_detail(services(request).engine, code[:40])
    return render(request, "ambiti/dettaglio.html", {"titolo": f"Ambito {a['nome']}", "a": a})
