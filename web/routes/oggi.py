"""Oggi: the user's deadlines (overdue, today, the next working days), obligations and escalations."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.today import today_for
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/oggi")
async def oggi(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    today = svc.today()
    calendar = svc.cases.calendar(svc.cases.policy_on(today))
    page = today_for(svc.engine, user.principal, today=today, calendar=calendar)
    return render(request, "oggi.html", {"titolo": "Oggi", "oggi": page})
