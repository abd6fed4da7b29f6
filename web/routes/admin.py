"""Administration: the outbox (read-only; mail is sent by the dispatch flow, never by a web request), in pages
of keyset links that keep the filters."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from notifications.render import template_label
from services.outbox_admin import LIMIT, MAX_LIMIT, STATUS_LABELS, outbox_view, parse_key
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/posta")
async def posta(request: Request, stato: str | None = None, destinatario: str | None = None,
                giorno: str | None = None, dopo: str | None = None, prima: str | None = None,
                pagina: str | None = None, limit: str | None = None, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    size = min(max(int(limit), 1), MAX_LIMIT) if (limit or "").isdigit() else LIMIT
    after, before = parse_key(dopo), parse_key(prima)
    view = outbox_view(svc.engine, user.principal, status=stato, recipient=destinatario, day=giorno, limit=size,
                       after=after, before=before)
    number = min(int(pagina), 10**6) if (pagina or "").isdigit() and int(pagina) > 0 and (after or before) else 1
    if view.previous_key is None:
        number = 1
    pages = max(1, -(-view.total // size))
    number = min(number, pages)
    keep = {k: v for k, v in (("stato", view.status or ""), ("destinatario", view.recipient or ""),
                              ("giorno", view.day.isoformat() if view.day else ""),
                              ("limit", str(size) if size != LIMIT else "")) if v}
    return render(request, "admin/posta.html", {
        "titolo": "Posta in uscita", "posta": view, "stati": STATUS_LABELS,
        "tipi": {m.template: template_label(m.template) for m in view.rows},
        "pagina": number, "pagine": pages,
        "successiva": urlencode({**keep, "dopo": view.next_key, "pagina": number + 1}) if view.next_key else None,
        "precedente": urlencode({**keep, "prima": view.previous_key, "pagina": max(number - 1, 1)})
        if view.previous_key else None,
        "prima_pagina": urlencode(keep) if view.previous_key else None,
    })
