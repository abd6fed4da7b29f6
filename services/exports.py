"""Exports (issue 14 item 2, DOMAIN.md §15): the case list a user sees as a file, the yearly report as a file.

- The case list: the rows of /casi for the same filters, in the same order, for every page at once: scope from
  `domain.access.read_scope` (through `case_pages.scoped_page`, the list's own query) and the person only where
  the reader may see identity data, exactly as the page shows them. The rows are read a chunk at a time
  (keyset paging) while the file is written, so a long list streams.
- The yearly report: `services.report_data.report_file`, the same code as `legami report`, for the roles
  `domain.access.report_refusal` allows (Ufficio di Piano, Organismo di Valutazione).

The access checks run when the function is called, before the first byte: a refusal is a 403, never a broken
download.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal, case_files_refusal, report_refusal
from domain.errors import InvalidData
from domain.registry import get_workflow
from domain.validation import FieldError
from reports.case_list import case_list_csv, case_list_xlsx
from services import case_pages
from services.queries import CaseFilter
from services.report_data import REPORT_FORMATS, report_file

LIST_FORMATS = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
WEB_REPORT_FORMATS = {k: REPORT_FORMATS[k] for k in ("pdf", "xlsx", "csv")}
CHUNK = 500


def export_format(given: str | None, allowed: dict[str, str], field: str = "formato") -> str:
    fmt = (given or "").strip().lower()
    if fmt not in allowed:
        raise InvalidData([FieldError(field, "Formato", f"valore non ammesso «{given or ''}»: scegliere tra "
                                                        f"{', '.join(allowed)}")])
    return fmt


def case_list_rows(engine: Engine, principal: Principal, f: CaseFilter, *, q: str = "",
                   today: date) -> Iterator[tuple[Any, ...]]:
    """Every row of the list `principal` sees with filter `f` (and search `q`), as the export's columns.
    Refused (AccessDenied) at the call to a role that works on no case file (the evaluator)."""
    refusal = case_files_refusal(principal)
    if refusal is not None:
        raise AccessDenied(refusal)
    return _rows(engine, principal, replace(f, limit=CHUNK, after=None, before=None), q, today)


def _rows(engine: Engine, principal: Principal, f: CaseFilter, q: str, today: date) -> Iterator[tuple[Any, ...]]:
    while True:
        page = case_pages.scoped_page(engine, principal, f, q=q, today=today, count=False)
        names = case_pages.display_names(engine, [r["assegnatario"] for r in page.rows])
        for r in page.rows:
            yield row_of(r, names)
        if page.next_key is None or not page.rows:
            return
        f = replace(f, after=page.next_key)


def row_of(r: dict[str, Any], names: dict[str, str]) -> tuple[Any, ...]:
    """One list row as the page shows it: the person only when the page shows it (None otherwise)."""
    person = r.get("persona") or {}
    due = date.fromisoformat(r["prossima_scadenza"]) if r["prossima_scadenza"] else None
    return (r["id"], get_workflow(r["tipo"]).label, person.get("cognome"), person.get("nome"),
            person.get("codice_fiscale"), r["comune"], r["stato_etichetta"],
            names.get(r["assegnatario"], r["assegnatario"]) if r["assegnatario"] else None, due,
            "sì" if r["in_ritardo"] else "no")


def case_list_file(engine: Engine, principal: Principal, f: CaseFilter, *, fmt: str, q: str = "",
                   today: date) -> tuple[Any, str, str]:
    """(body, media type, file name): the CSV as an iterator of text chunks (stream it), the XLSX as bytes."""
    fmt = export_format(fmt, LIST_FORMATS)
    rows = case_list_rows(engine, principal, f, q=q, today=today)
    name = f"casi-{today:%Y%m%d}.{fmt}"
    body = case_list_csv(rows) if fmt == "csv" else case_list_xlsx(rows)
    return body, LIST_FORMATS[fmt], name


def yearly_report_file(engine: Engine, principal: Principal, *, year: int | None, fmt: str | None,
                       today: date) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the yearly report, as of today (31 December for a past year)."""
    refusal = report_refusal(principal)
    if refusal is not None:
        raise AccessDenied(refusal)
    fmt = export_format(fmt, WEB_REPORT_FORMATS)
    year = year or today.year
    if not 2000 <= year <= today.year:
        raise InvalidData([FieldError("anno", "Anno", f"anno non valido: {year} (da 2000 a {today.year})")])
    as_of = min(today, date(year, 12, 31))
    body = report_file(engine, year=year, as_of=as_of, fmt=fmt)
    return body, REPORT_FORMATS[fmt], f"relazione-{year}-al-{as_of:%Y%m%d}.{fmt}"
