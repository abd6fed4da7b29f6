"""`legami serve --workers N`: more than one web process only on PostgreSQL, a bounded number, refused in
Italian before anything starts (the processes themselves are timed by bench/api.py --workers)."""
from __future__ import annotations

from .test_cli import cli_db, invoke  # noqa: F401  (the CLI's SQLite database fixture)


def test_more_than_one_web_process_on_sqlite_is_refused_before_anything_starts(cli_db):  # noqa: F811
    result = invoke("serve", "--workers", "2", "--senza-flussi")
    assert result.exit_code != 0
    assert "--workers oltre 1 richiede PostgreSQL" in result.output


def test_a_number_of_web_processes_out_of_range_is_refused_naming_the_option(cli_db):  # noqa: F811
    for workers in ("0", "17"):
        result = invoke("serve", "--workers", workers, "--senza-flussi")
        assert result.exit_code != 0
        assert "--workers: indicare un numero di processi da 1 a 16" in result.output
