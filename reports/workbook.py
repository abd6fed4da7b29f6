"""The report as an Excel workbook (openpyxl): numbers stay numbers, a suppressed cell is the text "n<N".

Sheets: Indicatori (long: breakdown × indicator × key), Per sub-ambito (wide), Intervalli, Scadenze, Arretrato,
Note. An empty cell means no data (for a count: none in the period).
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.registry import get_workflow
from reports import format as fmt
from reports import model

NUMBER_FORMATS = {"n": "#,##0", "eur": '"€" #,##0.00', "ore": "#,##0.0", "giorni": "#,##0.0", "pct": "0.0",
                  "tasso": "0.0%"}
UNIT_HEADERS = {"n": "n", "eur": "€", "ore": "ore", "giorni": "giorni", "pct": "%", "tasso": "tasso (0–1)"}
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")


def _value(cell: dict, threshold: int) -> Any:
    return fmt.hidden(threshold) if cell.get("soppresso") else cell.get("valore")


def _sheet(book: Workbook, title: str, header: Iterable[str], rows: Iterable[Iterable[Any]],
           formats: dict[int, Any] | None = None) -> Worksheet:
    """A sheet with a bold frozen header, a filter and readable widths; formats: column -> format (or a row
    function giving it) for the numeric columns."""
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes, sheet.auto_filter.ref = "A2", sheet.dimensions
    _apply_formats(sheet, formats or {})
    _widths(sheet)
    return sheet


def _apply_formats(sheet: Worksheet, formats: dict[int, Any]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for column, number_format in formats.items():
            cell = row[column - 1]
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = number_format(row) if callable(number_format) else number_format
                cell.alignment = Alignment(horizontal="right")
            elif isinstance(cell.value, str):
                cell.alignment = Alignment(horizontal="right")


def _widths(sheet: Worksheet) -> None:
    for column in sheet.iter_cols():
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(column[0].column)].width = min(max(longest + 2, 8), 60)


def _breakdowns(results: dict[str, dict]) -> list[tuple[str, dict]]:
    return sorted(results.items(), key=lambda item: item[0] != "sub_ambito")


def _indicator_rows(by: str, item: dict, threshold: int) -> list[tuple[Any, ...]]:
    """A row per key; the total's target is the district's, a sub-ambito's its own (services/tally_targets.py)."""
    cells = [("totale", item["totale"], item.get("obiettivo")),
             *((line["chiave"], line, line.get("obiettivo")) for line in item["righe"])]
    return [(by, model.group_label(item["gruppo"]), item["codice"], item["etichetta"],
             UNIT_HEADERS[item["unita"]], key, _value(c, threshold), c["n"], c["soppresso"],
             *((t["min"], t["max"], fmt.outcome(t["esito"]), t.get("proiezione_fine_anno"),
                fmt.outcome(t.get("esito_proiezione"))) if t else (None,) * 5))
            for key, c, t in cells]


def _indicators_sheet(book: Workbook, results: dict[str, dict]) -> None:
    header = ("Ripartizione", "Gruppo", "Codice", "Indicatore", "Unità", "Chiave", "Valore", "Persone (n)",
              "Soppresso", "Obiettivo min", "Obiettivo max", "Esito", "Proiezione a fine anno", "Esito proiezione")
    rows = [row for by, result in _breakdowns(results) for item in result["indicatori"]
            for row in _indicator_rows(by, item, result["soglia_riservatezza"])]
    units = {v: k for k, v in UNIT_HEADERS.items()}
    unit_format = lambda row: NUMBER_FORMATS[units[row[4].value]]  # noqa: E731
    _sheet(book, "Indicatori", header, rows, {7: unit_format, 8: "#,##0", 10: unit_format, 11: unit_format,
                                              13: unit_format})


def _wide_sheet(book: Workbook, result: dict) -> None:
    threshold, items = result["soglia_riservatezza"], result["indicatori"] + result["scadenze"]
    keys = sorted({line["chiave"] for item in items for line in item["righe"]}, key=lambda k: (k == "distretto", k))
    rows = []
    for item in items:
        lines = {line["chiave"]: line for line in item["righe"]}
        rows.append((item["codice"], item["etichetta"], UNIT_HEADERS[item["unita"]],
                     *(_value(lines[k], threshold) if k in lines else None for k in keys),
                     _value(item["totale"], threshold)))
    units = {v: k for k, v in UNIT_HEADERS.items()}
    unit_format = lambda row: NUMBER_FORMATS[units[row[2].value]]  # noqa: E731
    _sheet(book, "Per sub-ambito", ("Codice", "Indicatore", "Unità", *keys, "Totale"), rows,
           {column: unit_format for column in range(4, len(keys) + 5)})


def _interval_rows(by: str, interval: dict, threshold: int) -> list[tuple[Any, ...]]:
    rows = []
    for key in sorted(interval["lordo"], key=lambda k: (k != "totale", k)):
        gross, net = interval["lordo"][key], interval["netto_sospensioni"].get(key, {})
        stats: list[Any] = [gross["casi"], gross["mediana"], gross["p90"], net.get("mediana"), net.get("p90")]
        if gross.get("soppresso"):
            stats = [fmt.hidden(threshold)] * 5
        rows.append((by, interval["codice"], interval["etichetta"],
                     model.group_label(interval["gruppo"]), key, *stats))
    return rows


def _intervals_sheet(book: Workbook, results: dict[str, dict]) -> None:
    header = ("Ripartizione", "Codice", "Intervallo", "Gruppo", "Chiave", "Casi", "Mediana lorda (giorni)",
              "P90 lordo (giorni)", "Mediana netta sospensioni (giorni)", "P90 netto sospensioni (giorni)")
    rows = [row for by, result in _breakdowns(results) for interval in result["intervalli"]
            for row in _interval_rows(by, interval, result["soglia_riservatezza"])]
    _sheet(book, "Intervalli", header, rows, {6: "#,##0", **{c: "#,##0.0" for c in range(7, 11)}})


def _deadlines_sheet(book: Workbook, results: dict[str, dict]) -> None:
    header = ("Ripartizione", "Codice", "Scadenze", "Chiave", "Rispettate (%)", "Persone (n)", "Soppresso")
    rows = [(by, item["codice"], item["etichetta"], key, _value(c, result["soglia_riservatezza"]), c["n"],
             c["soppresso"])
            for by, result in _breakdowns(results) for item in result["scadenze"]
            for key, c in [("totale", item["totale"]), *((line["chiave"], line) for line in item["righe"])]]
    _sheet(book, "Scadenze", header, rows, {5: "0.0", 6: "#,##0"})


def _backlog_sheet(book: Workbook, result: dict) -> None:
    rows = [(b["tipo_caso"], get_workflow(b["tipo_caso"]).label, b["stato"], b["stato_etichetta"],
             _value(b, result["soglia_riservatezza"]), b["soppresso"]) for b in result["arretrato"]]
    _sheet(book, "Arretrato", ("Tipo di caso", "Descrizione", "Stato", "Stato (etichetta)", "Casi aperti",
                               "Soppresso"), rows, {5: "#,##0"})


def _state_intervals_sheet(book: Workbook, result: dict) -> None:
    threshold = result["soglia_riservatezza"]
    rows = [(i["tipo_caso"], i["da"], i["a"], i["da_etichetta"], i["a_etichetta"],
             *((fmt.hidden(threshold),) * 3 if i["soppresso"] else (i["casi"], i["mediana"], i["p90"])))
            for i in result.get("intervalli_stati", [])]
    _sheet(book, "Tempi tra stati", ("Tipo di caso", "Da", "A", "Da (etichetta)", "A (etichetta)", "Casi",
                                     "Mediana (giorni)", "P90 (giorni)"), rows, {6: "#,##0", 7: "#,##0.0", 8: "#,##0.0"})


def _notes_sheet(book: Workbook, results: dict[str, dict], sub_ambiti_note: str | None) -> None:
    main = results["sub_ambito"]
    threshold = main["soglia_riservatezza"]
    rows = [
        ("Anno", main["anno"]),
        ("Dati al", date.fromisoformat(main["al"])),
        ("Soglia di riservatezza (persone)", threshold),
        ("Riservatezza", f"Celle con meno di {threshold} persone non mostrate: «{fmt.hidden(threshold)}», "
                         "come le celle da cui si potrebbero ricavare."),
        ("Sub-ambiti provvisori", sub_ambiti_note or "no: assegnazione dei comuni confermata"),
        ("Ripartizioni", ", ".join(by for by, _ in _breakdowns(results))),
        ("Celle vuote", "nessun dato nel periodo (per i conteggi: nessun caso)"),
        ("Unità", "% = percentuale (33,3 = 33,3%); tasso = media da 0 a 1, mostrata in %; tempi in giorni"),
        ("Contenuto", "Solo dati aggregati: nessun nome né codice fiscale."),
    ]
    sheet = _sheet(book, "Note", ("Voce", "Valore"), rows)
    sheet["B3"].number_format = "DD/MM/YYYY"
    sheet.column_dimensions["B"].width = 100
    for cell in sheet["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def report_xlsx(results: dict[str, dict], *, sub_ambiti_note: str | None = None) -> bytes:
    if "sub_ambito" not in results:
        raise ValueError("la relazione richiede i conteggi per sub-ambito (chiave «sub_ambito»)")
    book = Workbook()
    book.remove(book.active)
    _indicators_sheet(book, results)
    _wide_sheet(book, results["sub_ambito"])
    _intervals_sheet(book, results)
    _deadlines_sheet(book, results)
    _backlog_sheet(book, results["sub_ambito"])
    _state_intervals_sheet(book, results["sub_ambito"])
    _notes_sheet(book, results, sub_ambiti_note)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
