"""`legami case open` on a day no loaded policy covers: one Italian line naming the day, exit 1, nothing written."""
from __future__ import annotations

import json

from store.tables import case_t

from .patto_steps import segnalazione
from .test_cli import cli_db, invoke, rows  # noqa: F401  (the CLI's database fixture)


def test_opening_a_case_on_a_day_before_every_policy_is_one_italian_line_and_exit_1(cli_db):  # noqa: F811
    result = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace",
                    "15/03/2019", "--data", json.dumps(segnalazione()))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "LookupError" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "nessuna politica in vigore" in lines[0] and "15/03/2019" in lines[0]
    assert rows(cli_db, case_t) == 0
