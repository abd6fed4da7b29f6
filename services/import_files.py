"""The import's files: the XLSX template of a case type (generated from its declaration), reading a filled file
(XLSX with openpyxl in read-only mode, streamed; CSV with «;» and the BOM, as Italian Excel writes it), and the
Italian report of a dry run's problems (CSV or XLSX). No rule here: the columns come from domain/import_template.py.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from domain.import_template import LIST_SEPARATOR, Column
from services.importing import ImportResult, Problem, template_columns

DATA_SHEET = "Dati"
HELP_SHEET = "Istruzioni"
LISTS_SHEET = "Valori"
VALIDATED_ROWS = 5000  # rows of the data sheet that carry the drop-down lists
_KIND_LABELS = {"text": "testo", "date": "data gg/mm/aaaa", "number": "numero (es. 1234,56)",
                "choice": "un valore dell'elenco", "list": f"valori dell'elenco separati da «{LIST_SEPARATOR}»",
                "bool": "sì / no", "pairs": "voci «chiave = valore» separate da «;»"}


class FileProblem(ValueError):
    """A file that cannot be read as a table at all; str() is the Italian reason."""


# ----------------------------------------------------------------------------- template


def write_template(case_type: str, target: BinaryIO | Path | str, rows: list[Mapping[str, Any]] = ()) -> None:
    """The XLSX template of `case_type`: the data sheet (Italian headers, drop-down lists for enumerations, the
    given rows), a sheet explaining each column, and the hidden sheet of the lists' values."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ct, cols = template_columns(case_type)
    wb = Workbook()
    data = wb.active
    data.title = DATA_SHEET
    data.append([c.header for c in cols])
    for cell in data[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    data.freeze_panes = "B2"
    for row in rows:
        data.append([row.get(c.header) for c in cols])
        for cell in data[data.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a case's text is text, never a formula the spreadsheet would run
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_column = 0
    for i, col in enumerate(cols, start=1):
        letter = get_column_letter(i)
        data.column_dimensions[letter].width = 24
        if col.kind == "text":  # codici, phone numbers, protocols: Excel keeps them as typed (leading zeros)
            data.column_dimensions[letter].number_format = "@"
        if col.kind in ("choice", "bool") and col.choices:
            list_column += 1
            lists_letter = get_column_letter(list_column)
            for j, (_, label) in enumerate(col.choices, start=1):
                lists.cell(row=j, column=list_column, value=label)
            rule = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                                  formula1=f"{LISTS_SHEET}!${lists_letter}$1:${lists_letter}${len(col.choices)}",
                                  errorTitle="Valore non ammesso", error="Scegliere un valore dell'elenco.")
            rule.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
            data.add_data_validation(rule)
    help_sheet = wb.create_sheet(HELP_SHEET, 1)
    help_sheet.append([f"Modello di importazione: {ct.label}"])
    help_sheet.append(["Una riga per caso. I passi già eseguiti si indicano con la loro data; i dati di un passo si "
                       "compilano solo se il passo è stato eseguito (obbligatori se eseguito). Le righe con un "
                       "identificativo esterno già importato vengono saltate."])
    help_sheet.append([])
    help_sheet.append(["Colonna", "Obbligatoria", "Formato", "Valori ammessi", "Spiegazione"])
    for cell in help_sheet[4]:
        cell.font = Font(bold=True)
    help_sheet["A1"].font = Font(bold=True, size=13)
    for col in cols:
        help_sheet.append([col.header, _required(col), _KIND_LABELS[col.kind],
                           "; ".join(label for _, label in col.choices), col.help])
    for letter, width in zip("ABCDE", (60, 22, 26, 50, 80)):
        help_sheet.column_dimensions[letter].width = width
    wb.save(target)


def _required(col: Column) -> str:
    if col.role in ("external_id", "state", "comune", "kind", "parent"):
        return "sì"
    if col.role == "date":
        return "per il passo di apertura"
    return "se il passo è eseguito" if col.required else "no"


# ----------------------------------------------------------------------------- reading


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Table:
    """A filled template, streamed: `headers`, `total` (the data rows, when the file says), `rows()` yields
    (row number, {header: cell}) for every non-blank row; `problems` names unknown and missing columns."""

    def __init__(self, path: Path, case_type: str):
        self.path = Path(path)
        self._cols = template_columns(case_type)[1]
        self._wb: Any = None
        self.total: int | None = None
        suffix = self.path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            self.headers = self._open_xlsx()
        elif suffix in (".csv", ".txt"):
            self.headers = self._open_csv()
        else:
            raise FileProblem(f"formato del file «{self.path.name}» non riconosciuto: usare .xlsx o .csv")
        self.problems = self._header_problems()

    def _open_xlsx(self) -> list[str]:
        from openpyxl import load_workbook

        try:
            self._wb = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - zip, XML or openpyxl's own errors: not a workbook
            raise FileProblem(f"il file «{self.path.name}» non si legge come foglio Excel (.xlsx): {exc}") from None
        sheet = self._wb[DATA_SHEET] if DATA_SHEET in self._wb.sheetnames else self._wb.worksheets[0]
        self._sheet = sheet
        self.total = max((sheet.max_row or 1) - 1, 0) if sheet.max_row else None
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return [str(h).strip() if h is not None else "" for h in first]

    def _open_csv(self) -> list[str]:
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as f:
                first = f.readline()
                self.total = sum(1 for _ in f)
        except UnicodeDecodeError:
            raise FileProblem("il file CSV non è in UTF-8: salvarlo da Excel come «CSV UTF-8 (delimitato da "
                              "separatore)»") from None
        self._delimiter = ";" if first.count(";") >= first.count(",") else ","
        return [h.strip() for h in next(csv.reader([first], delimiter=self._delimiter))]

    def _header_problems(self) -> list[Problem]:
        known = {c.header for c in self._cols}
        found = [Problem(1, h, "colonna non prevista dal modello") for h in self.headers if h and h not in known]
        required = [c.header for c in self._cols if c.role in ("external_id", "state")]
        found += [Problem(1, h, "colonna obbligatoria mancante") for h in required if h not in self.headers]
        return found

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self._wb is not None:
            values = self._sheet.iter_rows(min_row=2, values_only=True)
            start = 2
        else:
            f = open(self.path, encoding="utf-8-sig", newline="")
            reader = csv.reader(f, delimiter=self._delimiter)
            next(reader, None)
            values, start = reader, 2
        try:
            for number, cells in enumerate(values, start=start):
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                yield number, {h: v for h, v in zip(self.headers, cells) if h and v is not None and v != ""}
        finally:
            if self._wb is not None:
                self._wb.close()
            else:
                f.close()


# ----------------------------------------------------------------------------- the problems' report


REPORT_HEADERS = ("Riga", "Colonna", "Problema")


def problems_csv(result: ImportResult) -> bytes:
    """The problems as Italian Excel opens them: «;», UTF-8 with BOM; a cell that starts like a formula gets an
    apostrophe (reports/csv_safe.py: a file's own text is never run as a formula)."""
    from reports.csv_safe import writer as safe_writer

    out = io.StringIO()
    writer = safe_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(REPORT_HEADERS)
    for p in result.problems:
        writer.writerow([p.row, p.column, p.message])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def problems_xlsx(result: ImportResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from reports.csv_safe import safe_cell

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "Problemi"
    ws.append(list(REPORT_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for p in result.problems:
        ws.append([p.row, safe_cell(p.column), safe_cell(p.message)])
    for letter, width in zip("ABC", (8, 60, 90)):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
