"""The import template is derived from the declaration, and a row's cells become the forms' nested data (pure)."""
from __future__ import annotations

from datetime import date

from domain.import_template import COMUNE, EXTERNAL_ID, STATE, Step, columns, external_id_of, parse_row, row_cells
from domain.registry import all_case_types, get_case_type, value_labels

PATTO = columns(get_case_type("patto"), value_labels())
SIGNED = "Firma e attivazione del patto"


def test_every_case_type_gets_unique_italian_headers_with_the_state_and_a_date_per_step():
    for ct in all_case_types():
        cols = columns(ct, value_labels())
        headers = [c.header for c in cols]
        assert len(headers) == len(set(headers)), ct.case_type
        assert headers[:2] == [EXTERNAL_ID, STATE]
        assert {c.transition for c in cols if c.role == "date"} == {t.name for t in ct.workflow.transitions}
        assert {v for v, _ in cols[1].choices} == {s.name for s in ct.workflow.states}


def test_cells_become_the_forms_nested_data_lists_and_numbered_records_included():
    cells = {EXTERNAL_ID: 7, STATE: "attivo", COMUNE: "019035",
             f"{SIGNED} · data del passo": "03/03/2026",
             f"{SIGNED} · Obiettivo 1 › Descrizione": "Trovare lavoro",
             f"{SIGNED} · Obiettivo 2 › Descrizione": "Pagare l'affitto",
             f"{SIGNED} · Misura economica › Importo per erogazione (€)": "1.234,50",
             f"{SIGNED} · Misura economica › Voci di spesa": "Affitto; utenze",
             f"{SIGNED} · Firma dell'assistente sociale": "sì",
             f"{SIGNED} · Firmatari (beneficiario e adulti coinvolti)": "Mario Rossi; Anna Rossi"}
    row = parse_row(PATTO, 5, cells)
    assert row.problems == [] and row.external_id == "7" and row.state == "ACTIVE"
    (step,) = row.steps
    assert step.on == date(2026, 3, 3)
    assert [o["descrizione"] for o in step.data["obiettivi"]] == ["Trovare lavoro", "Pagare l'affitto"]
    assert step.data["misura_economica"] == {"importo": "1234.50", "voci": ["affitto", "utenze"]}
    assert step.data["firma_assistente_sociale"] is True
    assert step.data["firmatari"] == ["Mario Rossi", "Anna Rossi"]


def test_a_row_written_from_a_cases_steps_reads_back_as_the_same_steps():
    steps = [Step("segnala", date(2026, 2, 2), {"persona": {"cognome": "Rossi", "data_nascita": "1985-12-10"},
                                                   "fonte": "caritas", "bisogno": "economico"})]
    cells = row_cells(PATTO, external_id="X1", state="REFERRED", comune="019035", kind=None, parent=None,
                      steps=steps)
    row = parse_row(PATTO, 2, cells)
    assert row.problems == [] and row.state == "REFERRED" and row.comune == "019035"
    assert row.steps[0].data == {"persona": {"cognome": "Rossi", "data_nascita": date(1985, 12, 10)},
                                 "fonte": "caritas", "bisogno": "economico"}


def test_a_rows_problems_come_in_the_columns_order_whatever_the_order_of_its_cells_and_blanks_are_skipped():
    """parse_row walks only the filled cells (sorted back into the columns' order): a cell of spaces is blank, a
    required fixed column left blank is named in its place, choices match their code or label in any case."""
    cells = {"Segnalazione · Fonte della segnalazione": "la nonna", STATE: "  ", EXTERNAL_ID: "X9",
             "Segnalazione · data del passo": "31/02/2026", "Segnalazione · Area di bisogno": "ECONOMICO",
             COMUNE: None}
    row = parse_row(PATTO, 3, cells)
    headers = [c.header for c in PATTO]
    assert [h for h, _ in row.problems] == sorted((h for h, _ in row.problems), key=headers.index)
    assert (STATE, "campo obbligatorio") in row.problems and (COMUNE, "campo obbligatorio") in row.problems
    assert "non ammesso" in dict(row.problems)["Segnalazione · Fonte della segnalazione"]
    assert parse_row(PATTO, 4, {**cells, "Segnalazione · data del passo": "02/02/2026"}).steps[0].data == {
        "bisogno": "economico"}


def test_the_external_id_read_alone_is_the_one_parse_row_reads_whatever_the_cell():
    """The load decides repeats and rows already imported from external_id_of before a worker parses the row."""
    cols = columns(get_case_type("patto"), value_labels())
    for cell in ("PATTO-1", "  PATTO-2  ", "", "   ", None, 12345, 12.0, "«sì»"):
        cells = {STATE: "Segnalato", **({} if cell is None else {EXTERNAL_ID: cell})}
        assert external_id_of(cols, cells) == parse_row(cols, 2, cells).external_id, cell
