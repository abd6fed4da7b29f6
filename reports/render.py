"""The yearly report for the Organismo di Valutazione in four formats: HTML, PDF (WeasyPrint), XLSX, CSV.

`results` maps a breakdown ("sub_ambito" required, "type" optional for the tables by kind, any other kept in
the XLSX) to what `services.tallies.compute_tallies` returns for it. The caller computes them
(`services.report_data.collect_results`) and passes them in: nothing here reads the database.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports import csv_safe
from reports import format as fmt
from reports import model
from reports.workbook import report_xlsx

__all__ = ["report_csv", "report_html", "report_pdf", "report_xlsx"]

TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                   undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
CSV_HEADER = ("codice", "etichetta", "chiave", "valore", "n", "soppresso", "obiettivo_min", "obiettivo_max", "esito",
              "proiezione_fine_anno", "esito_proiezione")


def _main(results: dict[str, dict]) -> dict:
    if "sub_ambito" not in results:
        raise ValueError("la relazione richiede i conteggi per sub-ambito (chiave «sub_ambito»)")
    return results["sub_ambito"]


def report_html(results: dict[str, dict], *, district_name: str, sub_ambiti_note: str | None = None) -> str:
    """The accessible Italian report (one HTML page, inline CSS and SVG charts, no JavaScript)."""
    main = _main(results)
    return _ENV.get_template("relazione.html.j2").render(
        title=f"Relazione annuale {main['anno']} – {district_name}", district=district_name, year=main["anno"],
        as_of=fmt.day(main["al"]), threshold=main["soglia_riservatezza"],
        hidden=fmt.hidden(main["soglia_riservatezza"]), sub_ambiti_note=sub_ambiti_note,
        sections=model.sections(results), deadlines=model.deadline_views(main),
        intervals=model.interval_views(main), backlog=model.backlog_rows(main),
        state_intervals=model.state_interval_rows(main),
    )


def report_pdf(html: str) -> bytes:
    """A4 PDF of `report_html`'s page: the @page rules (size, margins, page numbers, font) are in its CSS."""
    from weasyprint import HTML  # imported here: loading Pango takes ~1 s and only the PDF needs it

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def _csv_target(target: dict | None) -> tuple[Any, ...]:
    if not target:
        return ("",) * 5
    return (fmt.csv_number(target["min"]), fmt.csv_number(target["max"]), target["esito"] or "",
            fmt.csv_number(target.get("proiezione_fine_anno")), target.get("esito_proiezione") or "")


def _csv_rows(item: dict, threshold: int) -> list[tuple[Any, ...]]:
    """The total's target is the district's; a sub-ambito's row its own (services/tally_targets.py)."""
    cells = [("totale", item["totale"], item.get("obiettivo")),
             *((line["chiave"], line, line.get("obiettivo")) for line in item["righe"])]
    return [(item["codice"], item["etichetta"], key,
             fmt.hidden(threshold) if c["soppresso"] else fmt.csv_number(c["valore"]),
             "" if c["n"] is None else c["n"], "sì" if c["soppresso"] else "no", *_csv_target(target))
            for key, c, target in cells]


def report_csv(result: dict) -> str:
    """One tally result in long format, for Italian Excel: `;` separator, decimal comma, no thousands separator,
    CRLF line ends, and a leading BOM (U+FEFF) so that Excel reads UTF-8. Write it with encoding="utf-8" (the
    BOM is already in the text). One row per indicator (then per deadline indicator) and key, the "totale" key
    first; a suppressed cell has valore "n<N", n empty and soppresso "sì"; an empty valore means no data. The
    target columns (range, sotto/entro/sopra, year-end projection and its band) are empty where there is none."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in result["indicatori"] + result["scadenze"]:
        writer.writerows(_csv_rows(item, result["soglia_riservatezza"]))
    return "\ufeff" + buffer.getvalue()
