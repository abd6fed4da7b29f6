"""Issue 11 item 6 in pure functions: the protocol number's format, CSV cells a spreadsheet cannot run, and the
scorrimento rules of domain/casetypes/fna/ranking.py (a withdrawn or lapsed application frees its amount)."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.casetypes.fna import ranking as rk
from domain.errors import InvalidData
from reports.csv_safe import safe_cell
from reports.render import report_csv
from services.fna_pages import public_ranking_csv
from tests.unit.fakes import fire

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- protocol number


@pytest.mark.parametrize("protocol", ["CSC-2026-0042", "2026/0457", "FNA-1", "CSC-2026-00001", "A1B"])
def test_a_protocol_number_of_letters_and_digits_joined_by_dash_or_slash_is_accepted(protocol):
    assert fire("fna_domanda", "presenta", patch={"protocollo": protocol}).data["protocollo"] == protocol


@pytest.mark.parametrize("protocol", ['=HYPERLINK("http://x";"y")', "+cmd|' /C calc'!A0", "-2026", "@SUM(A1)",
                                      "CSC 2026", "CSC--2026", "2026/", "AB", "A" * 31, "<b>1</b>"])
def test_a_protocol_number_out_of_format_is_refused_with_an_italian_message_naming_the_field(protocol):
    with pytest.raises(InvalidData) as refused:
        fire("fna_domanda", "presenta", patch={"protocollo": protocol})
    [error] = refused.value.errors
    assert error.field == "protocollo" and error.label == "Numero di protocollo"
    assert "lettere e cifre" in error.message


# ----------------------------------------------------------------------------- CSV cells


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-3", "+1,5", "-1.234,50", "FNA-1", "Finanziabile", 42, Decimal("-2"), ""])
def test_plain_numbers_and_text_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_the_public_ranking_csv_neutralises_formulas_in_every_cell():
    page = {"righe": [{"posizione": 1, "protocollo": '=HYPERLINK("http://x")', "punteggio": Decimal(87),
                       "esito": "+cmd|x"}]}
    [_, row] = list(csv.reader(io.StringIO(public_ranking_csv(page)), delimiter=";"))
    assert row == ["1", "'=HYPERLINK(\"http://x\")", "87", "'+cmd|x"]


def test_the_yearly_report_csv_neutralises_formulas_but_keeps_negative_numbers():
    cell = {"valore": -2, "n": 3, "soppresso": False}
    result = {"soglia_riservatezza": 3, "scadenze": [], "indicatori": [
        {"codice": "x", "etichetta": "=1+1", "totale": cell, "righe": [{"chiave": "@SUM(A1)", **cell}]}]}
    rows = list(csv.reader(io.StringIO(report_csv(result).lstrip("\ufeff")), delimiter=";"))
    assert rows[1][1] == "'=1+1" and rows[2][2] == "'@SUM(A1)" and rows[2][3] == "-2"


def test_every_csv_legami_writes_goes_through_the_neutralising_writer():
    writers = [p.relative_to(ROOT).as_posix() for folder in ("domain", "services", "store", "web", "reports",
                                                              "notifications", "cli", "flows", "config")
               if (ROOT / folder).is_dir() for p in (ROOT / folder).rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(", p.read_text(encoding="utf-8"))]
    assert writers == ["reports/csv_safe.py"]


# ----------------------------------------------------------------------------- scorrimento


def _entries(*rows: tuple[str, str]) -> list[rk.Entry]:
    """(state, annual amount) in ranking order."""
    entries = [rk.Entry(i, f"P-{i}", Decimal(100 - i), {}, Decimal(0), Decimal(a), stato=s)
               for i, (s, a) in enumerate(rows, start=1)]
    return rk.rank(entries)


@pytest.mark.parametrize("left, label", [("WITHDRAWN", "Rinuncia"), ("LAPSED", "Decaduta")])
def test_an_application_that_leaves_after_funding_frees_its_amount_for_the_next_in_ranking(left, label):
    entries = _entries((left, "4800"), ("FUNDED", "4800"), ("NOT_FUNDED", "1200"), ("ELIGIBLE", "3600"),
                       ("NOT_FUNDED", "2400"))
    cut = rk.apply_cut_off(entries, Decimal(10000))
    assert cut == 4 and [e.finanziabile for e in entries] == [False, True, True, True, False]
    assert [rk.outcome(e) for e in entries] == [label, "Finanziata", "Finanziabile", "Finanziabile",
                                                 "Ammessa non finanziata"]
    assert entries[3].cumulato == Decimal(9600)  # the withdrawn 4.800 € counts no more


def test_funding_waits_for_the_first_better_ranked_application_neither_funded_nor_out():
    entries = _entries(("FUNDED", "1"), ("WITHDRAWN", "1"), ("NOT_FUNDED", "1"), ("ELIGIBLE", "1"))
    assert rk.waiting_ahead(entries, 4).protocollo == "P-3"
    assert rk.waiting_ahead(entries, 3) is None


# ----------------------------------------------------------------------------- the ranking steps


def _world_with_applications(world) -> None:
    """Two admitted applications of the closed call (id 2 here) and one of the open call (id 1)."""
    from tests.unit.fakes import CASE_ID, FINAL_CALL_ID, OPEN_CALL_ID, case_data, case_in
    for offset, call, adl in ((0, FINAL_CALL_ID, 2), (1, FINAL_CALL_ID, 6), (2, OPEN_CALL_ID, 6)):
        data = {**case_data("fna_domanda"), "protocollo": f"CSC-2026-{offset:04d}", "adl": adl}
        world.cases[CASE_ID + offset] = case_in("fna_domanda", "ELIGIBLE", data, id=CASE_ID + offset,
                                                related_case_id=call)


def test_a_ranking_step_computes_its_positions_from_the_calls_own_applications():
    from tests.unit.fakes import CASE_ID, FINAL_CALL_ID, call_case, call_data

    def closed_call(world):
        world.cases[FINAL_CALL_ID] = call_case(FINAL_CALL_ID, "CLOSED", call_data("2026-06-10", "2026-07-10"))
        _world_with_applications(world)

    decision = fire("fna_bando", "pubblica_graduatoria_provvisoria", case_fields={"id": FINAL_CALL_ID},
                    setup=closed_call)
    assert [p["domanda"] for p in decision.data["posizioni"]] == [CASE_ID + 1, CASE_ID]  # ADL 6 before ADL 2
    assert decision.data["atto"] == "Determina n. 12/2026"


def test_a_ranking_step_refuses_positions_sent_by_its_user():
    forged = {"atto": "Determina n. 12/2026",
              "posizioni": [{"domanda": 999, "protocollo": "X-1", "punteggio": "99", "dettaglio": {}}]}
    with pytest.raises(InvalidData) as refused:
        fire("fna_bando", "pubblica_graduatoria_provvisoria", payload=forged)
    assert [(e.field, e.label, e.message) for e in refused.value.errors] == [
        ("posizioni", "Posizioni in graduatoria", "campo non previsto: lo calcola Legami quando il passo è eseguito")]


def test_a_computed_ranking_of_a_large_call_is_recorded_whole():
    """The ranking snapshot is computed by the rules, never typed: the input bound on lists (200) is not its bound.
    A clean `legami demo` (about 300 applications on the year's call) failed on it."""
    from domain.casetypes.fna.bando import SnapshotGraduatoria

    positions = [{"domanda": n, "protocollo": f"CSC-2026-{n:04d}", "punteggio": "40",
                  "dettaglio": {"isee": "30", "adl": "6", "iadl": "4"}} for n in range(1, 1201)]
    assert len(SnapshotGraduatoria.model_validate({"posizioni": positions}).posizioni) == 1200
