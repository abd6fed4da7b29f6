"""FNA call pages: the calls, a call with its applications, its ranking and the public ranking.

Thin: every read and action goes through services/fna_pages.py, which checks scope and redacts.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from services import fna_pages
from services.request_memo import once_per_request
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/fna/bandi")
async def calls(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    rows = fna_pages.list_calls(svc.engine, user.principal, today=svc.today())
    return render(request, "fna/bandi.html", {"bandi": rows})


@router.get("/fna/bandi/{call_id}")
async def call(request: Request, call_id: IdPath, user: CurrentUser = Depends(current_user)):
    with once_per_request():  # the call's keys read once (its type, then its read)
        page = fna_pages.call_page(services(request).scoped, user.principal, call_id)
    return render(request, "fna/bando.html", page)


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and 0 < int(text) < 10**6 else None


@router.get("/fna/bandi/{call_id}/graduatoria")
async def ranking(request: Request, call_id: IdPath, user: CurrentUser = Depends(current_user)):
    """Each ranking in pages by position: `pagina_<fase>` for each phase shown (so paging one keeps the other's
    page), `limit` positions a page; a number that is not a page shows the first."""
    p = request.query_params
    size = _number(p.get("limit")) or fna_pages.RANKING_PAGE
    pages = {fase: n for fase in fna_pages.PHASES if (n := _number(p.get(f"pagina_{fase}")))}
    with once_per_request():  # the call's keys read once (its type, then its read)
        page = fna_pages.ranking_page(services(request).scoped, user.principal, call_id, pages=pages, size=size)
    kept = {f"pagina_{s['fase']}": s["pagina"] for s in page["sezioni"] if s["pagina"] > 1}
    if size != fna_pages.RANKING_PAGE:
        kept["limit"] = page["sezioni"][0]["per_pagina"] if page["sezioni"] else size

    def page_url(fase: str, number: int, anchor: str = "") -> str:
        query = {k: v for k, v in kept.items() if k != f"pagina_{fase}"}
        if number > 1:
            query[f"pagina_{fase}"] = number
        return f"/fna/bandi/{call_id}/graduatoria" + (f"?{urlencode(query)}" if query else "") + anchor

    return render(request, "fna/graduatoria.html", {**page, "pagina_url": page_url})


@router.post("/fna/bandi/{call_id}/graduatoria")
async def publish(request: Request, call_id: IdPath, fase: str = Form(...), atto: str = Form(""),
                  versione: int | None = Form(None), user: CurrentUser = Depends(current_user)):
    fna_pages.publish_ranking(services(request).scoped, user.principal, call_id, fase, atto.strip(), versione)
    return RedirectResponse(f"/fna/bandi/{call_id}/graduatoria?pubblicata={quote(fase)}", status_code=303)


@router.get("/fna/bandi/{call_id}/graduatoria/pubblica")
async def public_ranking(request: Request, call_id: IdPath, formato: str = "html",
                         user: CurrentUser = Depends(current_user)):
    with once_per_request():  # the call's keys read once (its type, then its read)
        page = fna_pages.public_ranking(services(request).scoped, user.principal, call_id)
    if formato == "csv":
        name = f"graduatoria-bando-{call_id}-{page['fase'] or 'non-pubblicata'}.csv"
        return Response(fna_pages.public_ranking_csv(page), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return render(request, "fna/graduatoria_pubblica.html", page)
