"""What the console prints, without a database: lateness in words, Italian outbox keys, tables within 100 columns."""
from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from cli.cases import italian_deadline
from cli.italian import Typer
from cli.tables import cell, table
from cli.words import outbox_row, outbox_state

TODAY = date(2026, 12, 7)


def deadline(**kw) -> dict:
    return {"scadenza": "2026-01-26", "chiusa_il": None, "stato": "open", "base": "working", "fonte": "configured",
            **kw}


def test_a_step_done_after_its_deadline_stays_late_in_words_after_the_deadline_is_closed():
    late = italian_deadline(deadline(stato="met", chiusa_il="2026-12-10"), today=TODAY)
    assert (late["ritardo"], late["giorni_di_ritardo"], late["stato"]) == ("sì, di 318 giorni", 318, "chiusa")


def test_a_deadline_met_in_time_is_not_late_and_speaks_italian():
    on_time = italian_deadline(deadline(stato="met", chiusa_il="2026-01-20"), today=TODAY)
    assert (on_time["ritardo"], on_time["base"], on_time["fonte"]) == ("no", "lavorativi", "configurata")


def test_an_open_deadline_past_today_is_late_by_the_days_since():
    assert italian_deadline(deadline(scadenza="2026-12-06"), today=TODAY)["ritardo"] == "sì, di 1 giorno"
    assert italian_deadline(deadline(stato="cancelled"), today=TODAY)["ritardo"] == "no"


def test_the_outbox_speaks_italian_keys_and_states_and_refuses_an_unknown_state_naming_the_option():
    row = outbox_row({"id": 1, "recipient": "a@example.org", "status": "pending", "attempts": 0,
                      "payload": {"case_id": 3, "transizione": "Segnalazione"}})
    assert row == {"id": 1, "destinatario": "a@example.org", "stato": "in_coda", "tentativi": 0,
                   "dati": {"caso": 3, "transizione": "Segnalazione"}}
    assert outbox_state("inviato") == "sent" and outbox_state(None) is None
    with pytest.raises(ValueError, match="--stato"):
        outbox_state("spedito")


def test_cells_read_dates_in_rome_and_records_as_words():
    assert cell("2026-06-15T00:00:00+02:00") == "15/06/2026"
    assert cell("2026-12-07T17:00:00+00:00") == "07/12/2026 18:00"
    assert cell({"tipo": "ordinario", "data_dsu": "2026-02-19", "difformita": False}) == \
        "tipo: ordinario; data_dsu: 19/02/2026; difformita: no"


def printed(rows, columns, **kw) -> list[str]:
    app = Typer()

    @app.command()
    def show() -> None:
        table(rows, columns, **kw)

    result = CliRunner().invoke(app, [], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_table_with_one_column_per_comune_is_cut_into_sections_that_fit_100_columns():
    comuni = [f"Comune numero {n}" for n in range(48)]
    rows = [{"indicatore": f"Indicatore {i} con un nome lungo abbastanza", **{c: i * n for n, c in enumerate(comuni)}}
            for i in range(3)]
    lines = printed(rows, [("indicatore", "indicatore"), *[(c, c) for c in comuni]], repeat=1)
    assert max(map(len, lines)) <= 100
    assert sum(line.startswith("indicatore") for line in lines) > 5  # each section repeats the first column
    assert all(any(c in line for line in lines) or c.split()[-1] in " ".join(lines) for c in comuni)


def test_a_table_with_long_texts_wraps_them_inside_their_column():
    rows = [{"passo": "Segnalazione", "condizioni": "il patto precedente è un patto che l'utente può consultare " * 4}]
    lines = printed(rows, [("passo", "passo"), ("condizioni", "condizioni")])
    assert max(map(len, lines)) <= 100 and len(lines) > 3
