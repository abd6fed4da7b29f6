"""Administration: the outbox (read-only; mail is sent by the dispatch flow, never by a web request)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.outbox_admin import STATUS_LABELS, outbox_view
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/posta")
async def posta(request: Request, stato: str | None = None, destinatario: str | None = None,
                giorno: str | None = None, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    view = outbox_view(svc.engine, user.principal, status=stato, recipient=destinatario, day=giorno)
    return render(request, "admin/posta.html", {"titolo": "Posta in uscita", "posta": view,
                                                 "stati": STATUS_LABELS})
