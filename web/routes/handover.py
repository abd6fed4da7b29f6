"""Pages of hand-over, deputies and transfers (DOMAIN.md §13): «Consegne e sostituti» for the sub-ambito coordinator
(hand over every open case of a worker, with a preview; name and end deputies) and a case's «Passaggio» page
(reassign it, transfer it to another sub-ambito). Thin: the rules are in services/handover.py and domain/."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from domain.errors import InvalidData
from services import handover
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.form_input import FormInput
from web.routes.cases import _done
from web.templating import render

router = APIRouter(include_in_schema=False)


def _errors(exc: InvalidData) -> dict[str, str]:
    return {e.label: e.message for e in exc.errors}


def _handover_page(request: Request, user: CurrentUser, *, values: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None, deputy_values: dict[str, Any] | None = None,
                   deputy_errors: dict[str, str] | None = None, status_code: int = 200):
    svc = services(request)
    values = values or {}
    preview = None
    if values.get("assegnatario"):
        try:
            preview = handover.handover_preview(svc.engine, user.principal, values["assegnatario"], values,
                                                now=svc.clock())
        except InvalidData as exc:
            errors = {**(errors or {}), **_errors(exc)}
    ctx = {"titolo": "Consegne e sostituti", "valori": values, "errori": errors or {}, "anteprima": preview,
           "sostituti": handover.deputies(svc.engine, user.principal, now=svc.clock()),
           "valori_sostituto": deputy_values or {}, "errori_sostituto": deputy_errors or {},
           "fatto": request.query_params.get("fatto"), **handover.choices(svc.engine, user.principal)}
    return render(request, "consegne.html", ctx, status_code=status_code)


def _handover_values(inp: FormInput, form: Any) -> dict[str, Any]:
    per_case = {k.removeprefix("per_caso_"): str(v) for k, v in form.items()
                if k.startswith("per_caso_") and k.removeprefix("per_caso_").isdigit() and str(v).strip()}
    return {"assegnatario": inp.get("assegnatario") or "", "a_tutti": inp.get("a_tutti") or "",
            "per_caso": per_case, "motivo": inp.get("motivo") or ""}


@router.get("/consegne")
async def handover_page(request: Request, user: CurrentUser = Depends(current_user)):
    q = request.query_params
    values = {"assegnatario": q.get("assegnatario") or "", "a_tutti": q.get("a_tutti") or ""}
    return _handover_page(request, user, values=values)


@router.post("/consegne")
async def handover_confirm(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    form = await request.form()
    values = _handover_values(FormInput(form), form)
    if form.get("azione") == "anteprima":
        return _handover_page(request, user, values=values)
    try:
        done = handover.handover_confirm(svc.engine, user.principal, values["assegnatario"], values, now=svc.clock())
    except InvalidData as exc:
        return _handover_page(request, user, values=values, errors=_errors(exc), status_code=422)
    return _done(request, f"/consegne?fatto={len(done)}")


@router.post("/consegne/sostituti")
async def name_deputy(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    values = {k: inp.get(k) or "" for k in ("assegnatario", "sostituto", "dal", "al", "motivo")}
    try:
        handover.name_deputy(svc.engine, user.principal, values, now=svc.clock())
    except InvalidData as exc:
        return _handover_page(request, user, deputy_values=values, deputy_errors=_errors(exc), status_code=422)
    return _done(request, "/consegne#sostituti")


@router.post("/consegne/sostituti/{deputyship_id}/fine")
async def end_deputy(request: Request, deputyship_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    handover.end_deputy(svc.engine, user.principal, deputyship_id, now=svc.clock())
    return _done(request, "/consegne#sostituti")


# ----------------------------------------------------------------------------- one case


def _passage_page(request: Request, user: CurrentUser, case_id: int, *, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, status_code: int = 200):
    svc = services(request)
    options = handover.case_handover_options(svc.engine, user.principal, case_id, now=svc.clock())
    ctx = {"titolo": f"Passaggio del caso n. {case_id}", "case_id": case_id, "valori": values or {},
           "errori": errors or {}, **options}
    return render(request, "casi/passaggio.html", ctx, status_code=status_code)


@router.get("/casi/{case_id}/passaggio")
async def passage_page(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    return _passage_page(request, user, case_id)


@router.post("/casi/{case_id}/riassegnazione")
async def reassign(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    values = {"nuovo_assegnatario": inp.get("nuovo_assegnatario") or "", "motivo": inp.get("motivo") or ""}
    try:
        handover.reassign(svc.engine, user.principal, case_id, values, now=svc.clock())
    except InvalidData as exc:
        return _passage_page(request, user, case_id, values=values, errors=_errors(exc), status_code=422)
    return _done(request, f"/casi/{case_id}")


@router.post("/casi/{case_id}/trasferimento")
async def transfer(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    values = {"nuovo_comune": inp.get("nuovo_comune") or "", "motivo": inp.get("motivo") or ""}
    try:
        handover.transfer(svc.engine, user.principal, case_id, values, now=svc.clock())
    except InvalidData as exc:
        return _passage_page(request, user, case_id, values=values, errors=_errors(exc), status_code=422)
    return _done(request, f"/casi?trasferito={case_id}")
