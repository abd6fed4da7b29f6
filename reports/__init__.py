"""The yearly report for the Organismo di Valutazione: HTML, PDF, XLSX and CSV from the tally results.

Every function takes the dicts `services.tallies.compute_tallies` returns (one per breakdown) and never reads
people: the reports hold aggregates only, with the cells under the privacy threshold printed as "n<N".
"""
from reports.render import collect_results, district_details, report_csv, report_html, report_pdf, report_xlsx

__all__ = ["collect_results", "district_details", "report_csv", "report_html", "report_pdf", "report_xlsx"]
