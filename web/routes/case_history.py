"""A case's whole history («Storia completa», /casi/{id}/storia): every step with its recorded data, unfolded,
with the diary entries by date. The case page shows its latest steps in full and the older ones as one line
each (issue 12 item 3: a long history folded, the latest steps open), linking here; this page reads and
describes all of them, only when asked. Scope, redaction and the health read log are read_case's, as on the
case page; it works without JavaScript."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from domain.registry import get_workflow
from services import case_pages
from services.request_memo import once_per_request
from web.api_models import IdPath
from web.case_view import history, people_named
from web.deps import CurrentUser, current_user, services
from web.diary_view import diary_context
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/casi/{case_id}/storia")
async def full_history(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    with once_per_request():  # the case's keys and the user's deputyships read once
        detail = svc.scoped.read(user.principal, case_id)
        wf = get_workflow(detail["tipo"])
        names = case_pages.display_names(svc.engine, people_named(wf, detail["storia"], detail["assegnatario"]))
        providers = case_pages.provider_names(svc.engine, case_pages.providers_named(detail))
        storia = [{**h, "aperto": True} for h in history(wf, detail["storia"], names, providers)]
        timeline = diary_context(svc, user, case_id, storia)["cronologia"]
    return render(request, "casi/storia.html", {"caso": detail, "workflow": wf, "storia": storia,
                                                "cronologia": timeline})
