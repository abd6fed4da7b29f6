"""The case diary on the case page: the form's POST (plain POST → 303 back to the case, or the page again with the
errors and what was typed). Scope, the writer's rule and the checks are the service layer's (services/diary.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from domain.errors import InvalidData
from services.diary import add_entry
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.form_input import FormInput
from web.routes.cases import _case_context, _done
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/casi/{case_id}/diario")
async def add_to_diary(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    values = {k: inp.get(k) or "" for k in ("tipo", "avvenuto_il", "partecipanti", "testo", "classe", "rettifica_di")}
    raw = {**values, "partecipanti": values["partecipanti"].replace("\r", "")}
    try:
        number = add_entry(svc.engine, user.principal, case_id, raw, now=svc.clock())
    except InvalidData as exc:
        ctx = _case_context(request, user, case_id, diary_values=values, diary_errors=exc.errors)
        return render(request, "casi/caso.html", ctx, status_code=422)
    return _done(request, f"/casi/{case_id}?voce={number}#diario")
