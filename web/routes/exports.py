"""Downloads (issue 14 item 2): the case list of /casi as CSV or XLSX, a case's PDF summary, the yearly report.

Thin: who may download what, and which rows, is the service layer's (services/exports.py, web/case_summary.py,
over domain/access.py). The CSV streams; the XLSX and the PDFs are built whole (in the thread pool: plain `def`).
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from domain.access import AccessDenied, report_refusal
from domain.errors import InvalidData
from domain.validation import FieldError
from services.dashboard import available_years
from services.exports import case_list_file, yearly_report_file
from web.api_models import IdPath
from web.case_filters import list_query
from web.case_summary import case_summary_pdf
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


def attachment(body, media_type: str, filename: str) -> Response:
    """The file as a download: bytes whole, an iterator of text chunks streamed."""
    headers = {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
               "Cache-Control": "no-store"}
    if isinstance(body, bytes):
        return Response(body, media_type=media_type, headers=headers)
    return StreamingResponse((chunk.encode("utf-8") for chunk in body), media_type=media_type, headers=headers)


@router.get("/casi/esporta")
def export_case_list(request: Request, user: CurrentUser = Depends(current_user)):
    """The list of /casi with the same filters (every page), as `formato` csv or xlsx."""
    svc = services(request)
    lq = list_query(request.query_params)
    body, media, name = case_list_file(svc.engine, user.principal, lq.case_filter(user.principal),
                                       fmt=request.query_params.get("formato") or "", q=lq.q, today=svc.today())
    return attachment(body, media, name)


@router.get("/casi/{case_id}/riepilogo.pdf")
def case_summary(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    pdf = case_summary_pdf(services(request), user.principal, case_id)
    return attachment(pdf, "application/pdf", f"caso-{case_id}.pdf")


def year_of(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) != 4:
        raise InvalidData([FieldError("anno", "Anno", f"anno non valido: «{text}»")])
    return int(text)


@router.get("/relazione")
def report_page(request: Request, user: CurrentUser = Depends(current_user)):
    """The yearly report's downloads (menu page: `domain.access.report_refusal`)."""
    reason = report_refusal(user.principal)
    if reason is not None:
        raise AccessDenied(reason)
    svc = services(request)
    return render(request, "relazione.html", {"anni": available_years(svc.engine, svc.today()),
                                               "oggi": svc.today()})


@router.get("/relazione/scarica")
def download_report(request: Request, anno: str | None = None, formato: str | None = None,
                    user: CurrentUser = Depends(current_user)):
    svc = services(request)
    body, media, name = yearly_report_file(svc.engine, user.principal, year=year_of(anno), fmt=formato,
                                           today=svc.today())
    return attachment(body, media, name)
