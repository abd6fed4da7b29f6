"""What the yearly report needs from the database, computed here and handed to `reports` (which reads nothing).

The caller (the CLI's `legami report`, a page) computes the tallies with `collect_results` and the district's
name with `district_details`, then passes them to `reports.report_html`/`report_xlsx`/`report_csv`: so
`reports` depends on no service and the services may use `reports.format`/`reports.model` freely.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

from config.tally_files import TallySettings
from services.tallies import compute_tallies
from store import reference


def collect_results(engine: Engine, *, year: int, as_of: date | None = None, settings: TallySettings | None = None,
                    breakdowns: tuple[str, ...] = ("sub_ambito", "type")) -> dict[str, dict]:
    """The tallies the report needs, one computation per breakdown."""
    return {by: compute_tallies(engine, year=year, as_of=as_of, by=by, settings=settings) for by in breakdowns}


def district_details(engine: Engine) -> tuple[str, str | None]:
    """The district's name and, while the sub-ambiti are provisional, the note that says so."""
    row = reference.district(engine)
    if row is None:
        raise LookupError("nessun ambito caricato: eseguire prima l'inizializzazione del database")
    note = (row.provisional_note or "L'assegnazione dei comuni ai sub-ambiti è provvisoria.") \
        if row.sub_ambiti_provisional else None
    return row.name, note


REPORT_FORMATS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def report_file(engine: Engine, *, year: int, as_of: date, fmt: str, by: str = "sub_ambito") -> bytes:
    """The yearly report in `fmt` (pdf, html, xlsx, csv; the CSV: one breakdown, `by`), as the bytes of the file:
    what `legami report` writes and the web downloads."""
    from reports import report_csv, report_html, report_pdf, report_xlsx

    if fmt == "csv":
        return report_csv(compute_tallies(engine, year=year, as_of=as_of, by=by)).encode("utf-8")
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"formato non ammesso «{fmt}»")
    results = collect_results(engine, year=year, as_of=as_of)
    name, note = district_details(engine)
    if fmt == "xlsx":
        return report_xlsx(results, sub_ambiti_note=note)
    html = report_html(results, district_name=name, sub_ambiti_note=note)
    return report_pdf(html) if fmt == "pdf" else html.encode("utf-8")
