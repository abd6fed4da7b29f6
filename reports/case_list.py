"""The case list as a file (issue 14 item 2): the columns of /casi, as CSV for Italian Excel or as XLSX.

The rows come from the caller (services/exports.py: the reader's scope and filters, redacted as on screen);
nothing here reads the database. Both writers take an iterable of rows and never hold the whole list: the CSV
is yielded a chunk of lines at a time (a streaming response), the XLSX is written by openpyxl's write-only
workbook (rows go to a temporary file, memory stays flat).

CSV: UTF-8 with a BOM, `;` separated, CRLF, dates dd/mm/yyyy, each cell through `reports.csv_safe` (a cell a
spreadsheet would run as a formula gets a leading apostrophe). XLSX: dates as dates, every text cell stored as
text (openpyxl would otherwise store a string starting with "=" as a formula).
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from reports import csv_safe

COLUMNS = ("Caso n.", "Tipo", "Cognome", "Nome", "Codice fiscale", "Comune", "Stato", "Assegnatario",
           "Prossima scadenza", "In ritardo")
DATE_COLUMNS = frozenset({"Prossima scadenza"})
CHUNK_LINES = 200


def _csv_cell(value: Any) -> Any:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return "" if value is None else value


def case_list_csv(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The list as CSV text, in chunks (the first starts with the BOM and the header)."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
        if n % CHUNK_LINES == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def case_list_xlsx(rows: Iterable[tuple[Any, ...]], *, title: str = "Casi") -> bytes:
    """The list as an XLSX workbook: one sheet, a bold frozen header, dates as dd/mm/yyyy dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for width, letter in zip((9, 22, 18, 16, 19, 20, 24, 22, 16, 10), "ABCDEFGHIJ"):
        sheet.column_dimensions[letter].width = width
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for name, value in zip(COLUMNS, row):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            elif name in DATE_COLUMNS and value is not None:
                cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
