"""Oggi: the user's deadlines (overdue, today, the next working days), obligations and escalations."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services import case_pages
from services.today import today_for
from web.routes.cases import deadline_badge
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/oggi")
async def oggi(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    today = svc.today()
    calendar = svc.cases.calendar(svc.cases.policy_on(today))
    principal = svc.scoped.deputised(user.principal)  # a deputy's Oggi holds the absent worker's cases too
    page = today_for(svc.engine, principal, today=today, calendar=calendar)
    to_assign = case_pages.waiting_for_assignment(svc.engine, principal, today=today) \
        if case_pages.assignment_steps(principal) else None
    assigned = case_pages.newly_assigned(svc.engine, principal, today=today)
    for r in [*(to_assign or []), *assigned]:
        r["badge"] = deadline_badge(r["prossima_scadenza"], today)
    deadlines = [*page.overdue, *page.upcoming, *page.statutory_breaches, *(e.deadline for e in page.escalations)]
    names = case_pages.display_names(svc.engine, [d.owner for d in deadlines])
    return render(request, "oggi.html", {"titolo": "Oggi", "oggi": page, "da_assegnare": to_assign,
                                         "assegnati": assigned, "nomi": names})
