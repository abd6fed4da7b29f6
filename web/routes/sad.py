"""The SAD provider portal: the provider's cases and vouchers, accepting a voucher, the monthly visit log.

Thin: services/provider_portal.py checks scope and fires the declared steps; bad input is shown on the
case page next to the field it concerns (422), and nothing is written.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from domain.errors import (
    EffectiveDateInvalid,
    GuardRefused,
    InvalidData,
    TransitionNotAllowed,
)
from services import provider_portal
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, form_errors_by_field, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/ente")
async def portal(request: Request, user: CurrentUser = Depends(current_user)):
    page = provider_portal.portal(services(request).scoped, user.principal)
    return render(request, "ente/portale.html", page)


@router.get("/ente/casi/{case_id}")
async def case(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    page = provider_portal.case_page(services(request).scoped, user.principal, case_id)
    return render(request, "ente/caso.html", {**page, "valori": {}, "errori": {}, "errori_elenco": [],
                                              "modulo": None})


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: (form.getlist(k) if k.endswith(".servizi") else form.get(k)) for k in form}


def _version(form: dict[str, Any]) -> int | None:
    try:
        return int(form.get("versione") or "")
    except ValueError:
        return None


async def _act(request: Request, case_id: int, user: CurrentUser, action, modulo: str):
    svc = services(request)
    form = await _form(request)
    try:
        action(svc.scoped, user.principal, case_id, form, _version(form))
    except InvalidData as exc:
        errors, listed = form_errors_by_field(exc.errors), [{"etichetta": e.label, "messaggio": e.message}
                                                           for e in exc.errors]
    except GuardRefused as exc:
        errors, listed = {}, [{"etichetta": "", "messaggio": r} for r in exc.reasons]
    except (EffectiveDateInvalid, TransitionNotAllowed) as exc:
        errors, listed = {}, [{"etichetta": "", "messaggio": str(exc)}]
    else:
        return RedirectResponse(f"/ente/casi/{case_id}?registrato={modulo}", status_code=303)
    page = provider_portal.case_page(svc.scoped, user.principal, case_id)
    return render(request, "ente/caso.html", {**page, "valori": form, "errori": errors, "errori_elenco": listed,
                                              "modulo": modulo}, status_code=422)


@router.post("/ente/casi/{case_id}/accetta")
async def accept(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    return await _act(request, case_id, user, provider_portal.accept_voucher, "accetta")


@router.post("/ente/casi/{case_id}/visite")
async def visits(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    return await _act(request, case_id, user, provider_portal.log_visits, "visite")
