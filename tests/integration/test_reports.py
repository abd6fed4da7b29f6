"""The yearly report for the Organismo di Valutazione: HTML, PDF, XLSX and CSV of the hand-computed fixture year."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from config.tally_files import load_tally_settings
from domain.validation import make_codice_fiscale
from reports import format as fmt
from reports import report_csv, report_html, report_pdf, report_xlsx
from services.report_data import collect_results, district_details

from .test_tallies import NO_SUPPRESSION, build_year, pandino_team  # noqa: F401 (a fixture)

DISTRICT = "Ambito Distrettuale Cremasco"
AS_OF = date(2026, 11, 20)
TARGETED = ("patti_attivati_progetto", "patti_attivati_ulteriori", "patti_realizzazione_pct")
# targeted too, but without data in this fixture: charted, with "Nessun dato nel periodo" instead of a table
TARGETED_WITHOUT_DATA = ("bonus_schede_rilasciate", "bonus_famiglie_sostenute", "bonus_euro_erogati")
FORBIDDEN = ("Bianchi", "Neri", "Conti", "Gallo", make_codice_fiscale("Bianchi", "Luca", date(1980, 5, 4), "M", "D142"))
SHEETS = ["Indicatori", "Per sub-ambito", "Intervalli", "Scadenze", "Arretrato", "Tempi tra stati", "Note"]


@pytest.fixture
def year(service, engine, pandino_team):  # noqa: F811 (the fixture imported above)
    build_year(service)
    return engine


@pytest.fixture
def open_results(year):
    """The fixture year with every cell shown (threshold 1)."""
    return collect_results(year, year=2026, as_of=AS_OF, settings=NO_SUPPRESSION)


@pytest.fixture
def private_results(year):
    """The same year with the configured threshold (5): with four people, every personal cell is hidden."""
    settings = load_tally_settings()
    assert settings.threshold == 5
    return collect_results(year, year=2026, as_of=AS_OF, settings=settings)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def article(html: str, code: str) -> str:
    """The HTML of one indicator's <article>."""
    match = re.search(rf'<article class="indicatore" id="ind-{code}".*?</article>', html, re.S)
    assert match, code
    return match.group(0)


def sheet_rows(book, name: str) -> list[tuple]:
    return list(book[name].iter_rows(values_only=True))


def wide_row(book, code: str) -> dict:
    header, *rows = sheet_rows(book, "Per sub-ambito")
    row = next(r for r in rows if r[0] == code)
    return dict(zip(header, row))


def csv_table(text: str) -> dict[tuple[str, str], dict[str, str]]:
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert rows and list(rows[0]) == ["codice", "etichetta", "chiave", "valore", "n", "soppresso", "obiettivo_min",
                                      "obiettivo_max", "esito", "proiezione_fine_anno", "esito_proiezione"]
    return {(r["codice"], r["chiave"]): r for r in rows}


def test_the_pdf_shows_title_date_indicators_and_targets_in_italian_format(open_results):
    html = report_html(open_results, district_name=DISTRICT)
    pdf = report_pdf(html)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert (round(float(reader.pages[0].mediabox.width)), round(float(reader.pages[0].mediabox.height))) == (595, 842)
    text = flat(pdf_text(pdf))
    assert f"Relazione annuale 2026 – {DISTRICT}" in text
    assert "dati al 20/11/2026" in text
    assert f"Pagina 1 di {len(reader.pages)}" in text
    assert re.search(r"Patti attivati Totale 3 Persone 3 Unità numero", text)
    assert re.search(r"Realizzazione: esiti positivi sui patti conclusi Totale 33,3% Persone 3", text)
    assert "Range di valutazione 70–75%" in text and "sotto il range" in text
    assert re.search(r"Range del sub- ?ambito", text)  # each sub-ambito's own range, band and projection
    assert "€ 700,00" in text and "€ 400,00" in text  # euro paid: total and Crema
    assert "41,7%" in text  # mean realisation rate (0.8333 + 0) / 2, shown as a percentage
    assert "Giorni dalla segnalazione all'attivazione del patto" in text


def test_the_html_has_an_accessible_svg_chart_per_targeted_indicator_with_a_table_fallback(open_results):
    html = report_html(open_results, district_name=DISTRICT)
    assert '<html lang="it">' in html and "<script" not in html
    assert html.count("<svg") == len(TARGETED) + len(TARGETED_WITHOUT_DATA)
    for code in TARGETED:
        block = article(html, code)
        svg = re.search(r"<svg[^>]*>.*?</svg>", block, re.S).group(0)
        assert 'role="img"' in svg and re.search(r'aria-label="Grafico: [^"]+range di valutazione', svg)
        assert f'aria-describedby="grafico-{code}-desc"' in svg
        assert "<title" in svg and f'<desc id="grafico-{code}-desc">' in svg
        assert "Totale distretto" in svg and "Gli stessi dati sono nella tabella" in svg
        assert block.index("</svg>") < block.index("<table>"), "the table follows the chart"
    realisation = article(html, "patti_realizzazione_pct")
    assert re.search(r'<th scope="row">Crema</th><td class="num">50,0%</td>', realisation)
    assert re.search(r'<th scope="row">Pandino</th><td class="num">0,0%</td>', realisation)
    assert "70–75%" in realisation
    assert "<svg" not in article(html, "patti_attivati")  # no target, no chart
    kinds = article(html, "patti_attivati")
    assert "Patto per l&#39;inclusione sociale" in kinds and "Per tipologia" in kinds


def test_the_xlsx_opens_with_the_expected_sheets_and_numbers(open_results):
    book = load_workbook(io.BytesIO(report_xlsx(open_results, sub_ambiti_note="Sub-ambiti da verificare.")))
    assert book.sheetnames == SHEETS
    activated = wide_row(book, "patti_attivati")
    assert (activated["Crema"], activated["Pandino"], activated["Totale"]) == (2, 1, 3)
    assert wide_row(book, "patti_euro_erogati")["Crema"] == 400
    assert wide_row(book, "patti_realizzazione_pct")["Totale"] == pytest.approx(33.3)
    header, *rows = sheet_rows(book, "Indicatori")
    lines = [dict(zip(header, r)) for r in rows]
    total = next(r for r in lines if r["Codice"] == "patti_realizzazione_pct" and r["Chiave"] == "totale"
                 and r["Ripartizione"] == "sub_ambito")
    assert (total["Valore"], total["Obiettivo min"], total["Obiettivo max"]) == (33.3, 70, 75)
    assert total["Esito"] == "sotto il range" and total["Soppresso"] is False
    crema = next(r for r in lines if r["Codice"] == "patti_realizzazione_pct" and r["Chiave"] == "Crema"
                 and r["Ripartizione"] == "sub_ambito")  # a sub-ambito's own range (a share: the district's)
    assert (crema["Obiettivo min"], crema["Obiettivo max"], crema["Esito"]) == (70, 75, "sotto il range")
    assert crema["Proiezione a fine anno"] == 50.0 and crema["Esito proiezione"] == "sotto il range"
    by_kind = {r["Chiave"]: r["Valore"] for r in lines
               if r["Ripartizione"] == "type" and r["Codice"] == "patti_attivati"}
    assert by_kind == {"totale": 3, "autonomia": 1, "inclusione": 2}
    header, *rows = sheet_rows(book, "Intervalli")
    first = dict(zip(header, next(r for r in rows if r[1] == "patti_giorni_segnalazione_attivazione")))
    assert (first["Chiave"], first["Casi"], first["Mediana lorda (giorni)"]) == ("totale", 3, 21)
    notes = dict(sheet_rows(book, "Note")[1:])
    assert notes["Dati al"] == datetime(2026, 11, 20) and notes["Soglia di riservatezza (persone)"] == 1
    assert notes["Sub-ambiti provvisori"] == "Sub-ambiti da verificare."


def test_with_the_default_threshold_hidden_cells_read_n_lt_5_and_never_their_value(private_results):
    html = report_html(private_results, district_name=DISTRICT)
    assert "celle con meno di 5 persone non mostrate" in html
    for code, true_values in (("patti_attivati", ("3", "2")), ("patti_euro_erogati", ("700", "400", "300")),
                              ("patti_realizzazione_pct", ("33,3", "50,0"))):
        block = article(html, code)
        assert '<dd class="valore">n&lt;5</dd>' in block
        for value in true_values:
            assert not re.search(rf"[>\s€]{value}[<,%\s]", block), (code, value)
    text = flat(pdf_text(report_pdf(html)))
    assert "Patti attivati Totale n<5 Persone n<5" in text
    assert "€ 700,00" not in text and "33,3" not in text and "n<5" in text

    book = load_workbook(io.BytesIO(report_xlsx(private_results)))
    activated = wide_row(book, "patti_attivati")
    assert (activated["Crema"], activated["Pandino"], activated["Totale"]) == ("n<5",) * 3
    header, *rows = sheet_rows(book, "Intervalli")
    pandino = dict(zip(header, next(r for r in rows if r[1] == "patti_giorni_segnalazione_attivazione"
                                    and r[4] == "Pandino")))
    assert pandino["Casi"] == pandino["Mediana lorda (giorni)"] == "n<5"  # one person's own figure
    table = csv_table(report_csv(private_results["sub_ambito"]))
    assert table[("patti_attivati", "Crema")]["valore"] == "n<5"
    assert table[("patti_attivati", "Crema")]["soppresso"] == "sì" and table[("patti_attivati", "Crema")]["n"] == ""


def test_the_csv_parses_with_semicolons_and_holds_the_same_figures(open_results):
    result = open_results["sub_ambito"]
    table = csv_table(report_csv(result))
    assert table[("patti_attivati", "totale")]["valore"] == "3"
    assert table[("patti_attivati", "Crema")]["valore"] == "2"
    assert table[("patti_realizzazione_pct", "totale")]["valore"] == "33,3"
    assert table[("patti_euro_erogati", "Pandino")]["valore"] == "300"
    crema = table[("patti_attivati_progetto", "Crema")]  # Crema's share of the 100: 28.1 (test_tally_targets.py)
    assert (crema["obiettivo_min"], crema["esito"], crema["proiezione_fine_anno"]) == ("28,1", "sotto", "1,1")
    for item in result["indicatori"] + result["scadenze"]:
        for key, cell in [("totale", item["totale"]), *((r["chiave"], r) for r in item["righe"])]:
            row = table[(item["codice"], key)]
            shown = None if row["valore"] == "" else float(row["valore"].replace(",", "."))
            assert shown == (None if cell["valore"] is None else pytest.approx(cell["valore"], abs=1e-4))
            assert row["soppresso"] == "no" and row["etichetta"] == item["etichetta"]


def test_no_name_or_codice_fiscale_reaches_any_format(year):
    results = collect_results(year, year=2026, as_of=AS_OF, settings=NO_SUPPRESSION,
                              breakdowns=("sub_ambito", "type", "comune"))
    html = report_html(results, district_name=DISTRICT)
    book = load_workbook(io.BytesIO(report_xlsx(results)))
    cells = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    outputs = [html, pdf_text(report_pdf(html)), cells, report_csv(results["comune"])]
    for forbidden in FORBIDDEN:
        assert not any(re.search(rf"\b{forbidden}\b", output) for output in outputs), forbidden


def test_the_district_details_carry_the_provisional_sub_ambiti_warning_into_the_report(year, open_results):
    name, note = district_details(year)
    assert name == DISTRICT and note and "provvisoria" in note
    html = report_html(open_results, district_name=name, sub_ambiti_note=note)
    assert "Sub-ambiti provvisori:" in html


def test_a_report_without_the_sub_ambito_breakdown_is_refused(open_results):
    with pytest.raises(ValueError, match="sub-ambito"):
        report_html({"type": open_results["type"]}, district_name=DISTRICT)
    with pytest.raises(ValueError, match="sub-ambito"):
        report_xlsx({"type": open_results["type"]})


def test_figures_are_printed_the_italian_way():
    assert fmt.figure(1234.5, "ore") == "1.234,5"
    assert fmt.figure(1234567, "n") == "1.234.567"
    assert fmt.figure(1234.5, "eur") == "€ 1.234,50"
    assert fmt.figure(33.3, "pct") == "33,3%"
    assert fmt.figure(0.4167, "tasso") == "41,7%"
    assert fmt.figure(None, "n") == "—"
    assert fmt.band(70, 75, "pct") == "70–75%" and fmt.band(100, 100, "n") == "100"
    assert fmt.tick(50.0, "pct") == "50%" and fmt.tick(2500, "eur") == "€ 2.500"
    assert fmt.day("2026-11-20") == "20/11/2026"
    assert fmt.cell({"valore": None, "n": None, "soppresso": True}, "n", 5) == "n<5"
    assert fmt.csv_number(0.416666) == "0,4167" and fmt.csv_number(700.0) == "700"


def test_the_report_lists_the_time_between_every_pair_of_states(service, engine, pandino_team):  # noqa: F811
    from reports import report_html, report_xlsx
    from services.tallies import compute_tallies

    build_year(service)
    results = {by: compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by=by, settings=NO_SUPPRESSION)
               for by in ("sub_ambito", "type")}
    html = report_html(results, district_name="Ambito di prova")
    assert "Tempi di permanenza" in html and "Patto in redazione → Attivo" in html
    sheet = load_workbook(io.BytesIO(report_xlsx(results)))["Tempi tra stati"]
    rows = {(r[0], r[1], r[2]): r[5:8] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("patto", "DRAFTING", "ACTIVE")] == (3, 13.0, 13.0)
