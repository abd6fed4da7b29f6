"""The API's downloads (issue 14 item 2), on `api.router` (/api/v1, same authentication and Italian errors):
the case list as CSV or XLSX, a case's PDF summary, the yearly report. Who may download what is the service
layer's (services/exports.py, web/case_summary.py over domain/access.py), as on the pages."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from services.exports import case_list_file, yearly_report_file
from services.queries import CaseFilter
from web import api_models as m
from web.case_summary import case_summary_pdf
from web.routes.api import CaseIdPath, Svc, User, _known_type, router
from web.routes.exports import attachment

FILE = {"description": "Il file da scaricare (Content-Disposition: attachment)"}


@router.get("/esportazioni/casi",
            responses={200: {**FILE, "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                "spreadsheetml.sheet": {}}}, **m.errors(403, 422)},
            summary="Elenco dei casi come file",
            description="I casi che l'utente vede, con gli stessi filtri di `/casi` e tutte le pagine insieme, "
                        "oscurati come nell'elenco (la persona solo a chi può vederne i dati anagrafici). CSV per "
                        "Excel italiano (UTF-8 con BOM, separatore `;`, formule neutralizzate) o XLSX.")
def export_cases(
    svc: Svc,
    user: User,
    formato: Annotated[Literal["csv", "xlsx"], Query(description="csv o xlsx")] = "csv",
    tipo: Annotated[str | None, Query(max_length=60, description="Tipo di caso (es. patto)")] = None,
    stato: Annotated[str | None, Query(max_length=60, description="Stato (es. ACTIVE)")] = None,
    comune: Annotated[str | None, Query(max_length=80, description="Codice ISTAT o nome del comune")] = None,
    in_ritardo: Annotated[bool, Query(description="Solo i casi con una scadenza superata")] = False,
):
    if tipo:
        _known_type(tipo)
    f = CaseFilter(case_type=tipo or None, state=stato or None, comune=comune or None, overdue=in_ritardo,
                   by_due=True)
    return attachment(*case_list_file(svc.engine, user.principal, f, fmt=formato, today=svc.today()))


@router.get("/casi/{caso_id}/riepilogo.pdf", responses={200: {**FILE, "content": {"application/pdf": {}}},
                                                         **m.errors(403, 404, 422)},
            summary="Riepilogo PDF di un caso",
            description="Il caso come l'utente può leggerlo (i campi che il ruolo non vede sono tolti); la lettura "
                        "di dati sanitari è registrata.")
def case_summary(caso_id: CaseIdPath, user: User, svc: Svc):
    return attachment(case_summary_pdf(svc, user.principal, caso_id), "application/pdf", f"caso-{caso_id}.pdf")


@router.get("/relazione", responses={200: {**FILE, "content": {"application/pdf": {}, "text/csv": {}}},
                                     **m.errors(403, 422)},
            summary="Relazione annuale",
            description="La relazione per l'Organismo di Valutazione (PDF, XLSX o CSV per sub-ambito), come "
                        "`legami report`. Per l'Ufficio di Piano e l'Organismo di Valutazione.")
def yearly_report(
    svc: Svc,
    user: User,
    anno: Annotated[int | None, Query(ge=2000, le=2100, description="Anno (predefinito: l'anno in corso)")] = None,
    formato: Annotated[Literal["pdf", "xlsx", "csv"], Query(description="pdf, xlsx o csv")] = "pdf",
):
    return attachment(*yearly_report_file(svc.engine, user.principal, year=anno, fmt=formato, today=svc.today()))
