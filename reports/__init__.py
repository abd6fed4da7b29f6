"""The yearly report for the Organismo di Valutazione: HTML, PDF, XLSX and CSV from the tally results.

Every function takes the dicts `services.tallies.compute_tallies` returns (one per breakdown), computed and
passed in by the caller (`services.report_data`), and never reads the database: the reports hold aggregates
only, with the cells under the privacy threshold printed as "n<N". Nothing here imports `services`.
"""
from reports.render import report_csv, report_html, report_pdf, report_xlsx

__all__ = ["report_csv", "report_html", "report_pdf", "report_xlsx"]
