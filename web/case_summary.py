"""A case's PDF summary (issue 14 item 2, DOMAIN.md §15): the case page's reading side on A4, for whoever may read
the case, as they may read it.

The read is `services.access.read_case` (scope, field classes, and the health read logged, here with the
context "riepilogo_pdf"); the diary's entries are `services.diary.read_entries` (its health entries logged as on
the page). The data are described as the case page describes them (web/describe.py), the page is
templates/pdf/riepilogo_caso.html, WeasyPrint writes the PDF (`reports.report_pdf`).
"""
from __future__ import annotations

from typing import Any

from domain.registry import get_workflow
from reports import report_pdf
from services import case_pages
from services.access import read_case
from services.diary import read_entries
from web.case_view import history, people_named, runs, with_names
from web.describe import describe_blocks
from web.templating import env

CONTEXT = "riepilogo_pdf"


def case_summary_pdf(svc: Any, principal: Any, case_id: int) -> bytes:
    """The PDF summary of case `case_id` as `principal` may read it (AccessDenied/NotFound otherwise)."""
    today, now = svc.today(), svc.clock()
    detail = read_case(svc.engine, principal, case_id, today=today, now=now, policy=svc.scoped.policy,
                       context=CONTEXT)
    wf = get_workflow(detail["tipo"])
    entries = read_entries(svc.engine, principal, case_id, now=now, policy=svc.scoped.policy, context=CONTEXT)
    names = case_pages.display_names(svc.engine, [*people_named(wf, detail["storia"], detail["assegnatario"]),
                                                  *(e["autore"] for e in entries)])
    providers = case_pages.provider_names(svc.engine, case_pages.providers_named(detail))
    for e in entries:
        e["autore_nome"] = names.get(e["autore"], e["autore"])
    html = env.get_template("pdf/riepilogo_caso.html").render(
        caso=detail, workflow=wf, oggi=today, storia=history(wf, detail["storia"], names, providers),
        diario=entries, assegnatario_nome=names.get(detail["assegnatario"] or "", detail["assegnatario"]),
        ente_nome=providers.get(detail["ente"], detail["ente"]) if detail["ente"] else None,
        dati=runs(describe_blocks(wf, None, with_names(wf, detail["dati"], names, providers))),
        utente=names.get(principal.username) or principal.username)
    return report_pdf(html)
