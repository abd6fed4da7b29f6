"""The console speaks Italian: every command's help, and every refusal of bad input, without a word of Typer's,
Click's or Python's English, within 100 columns; a refusal is one line naming the option, argument or file."""
from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from store.db import cached_engine

runner = CliRunner()

ENGLISH = [  # what Typer, Click and Python say when nobody translated them
    "Usage", "Show this message", "No such option", "No such command", "Missing argument", "Missing option",
    "Missing parameter", "Invalid value", "Error:", "Try '", "for help", "Options", "Arguments", "Commands",
    "[required]", "required", "default:", "Did you mean", "Aborted", "does not take", "requires an argument",
    "unexpected extra", "<bool>", "<str>", "<int>", "<path>", "Traceback", "Errno", "No such file",
    "FileNotFoundError", "JSONDecodeError", "Expecting", "double quotes", "Input should", "integer", "Repeat for",
    "install-completion", "show-completion",
]


def english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if re.search(rf"(?<!\w){re.escape(phrase)}", text)]


def every_command(command=None, path=()):
    command = command or get_command(app)
    yield path
    for name in getattr(command, "commands", {}):
        yield from every_command(command.commands[name], (*path, name))


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory):
    folder = tmp_path_factory.mktemp("italiano")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEGAMI_DATABASE_URL", f"sqlite:///{folder / 'cli.db'}")
        patch.chdir(folder)
        get_settings.cache_clear()
        cached_engine.cache_clear()
        assert runner.invoke(app, ["init"]).exit_code == 0
        yield folder
        get_settings.cache_clear()
        cached_engine.cache_clear()


@pytest.mark.parametrize("path", list(every_command()), ids=lambda p: " ".join(p) or "legami")
def test_every_help_page_is_italian_fits_100_columns_and_shows_flags_as_flags(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Uso: legami")
    assert english_in(result.output) == [], result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    assert not re.search(r"--json \S", result.output), "--json is a flag: it takes no value"
    assert "--help" in result.output and "Mostra questo aiuto ed esce." in result.output


BAD_INPUT = [  # (arguments, what the one line names)
    (["case", "open", "patto", "--bogus"], "--bogus"),
    (["case", "show"], "CASO"),
    (["case", "show", "diciassette", "--actor", "as.noli"], "CASO"),
    (["case", "show", "17"], "--actor"),
    (["case", "list", "--actor"], "--actor"),
    (["case", "list", "--actor", "x", "--json=sì"], "--json"),
    (["case", "list", "--actor", "x", "--limite", "molti"], "--limite"),
    (["caso"], "caso"),
    (["sweep", "avanti"], "avanti"),
    (["case", "open", "patto", "--actor", "as.noli", "--data", "@non-esiste.json"], "non-esiste.json"),
    (["case", "open", "patto", "--actor", "as.noli", "--data", "{'fonte': 'caritas'}"], "--data"),
    (["case", "open", "patto", "--actor", "as.noli", "--data", "[1, 2]"], "--data"),
    (["case", "open", "patto", "--actor", "as.noli", "--efficace", "31/02/2026", "--data", "{}"], "--efficace"),
    (["case", "show", "1", "--actor", "nessuno"], "nessuno"),
    (["workflow", "show", "bonus"], "bonus"),
    (["policy", "load", "config/policies/2030.1.toml"], "2030.1.toml"),
    (["restore", "non-esiste.tar.gz"], "non-esiste.tar.gz"),
    (["report", "--anno", "2026", "--format", "xlsx", "--out", "relazione.pdf"], "relazione.pdf"),
    (["report", "--anno", "2026", "--out", "relazione.docx"], "relazione.docx"),
    (["report", "--anno", "2026", "--out", "cartella-che-non-esiste/relazione.csv"], "relazione.csv"),
    (["tally", "--anno", "2026", "--as-of", "ieri"], "--as-of"),
    (["outbox", "list", "--stato", "spedito"], "--stato"),
    (["keys", "new", "--id", "una chiave"], "--id"),
    (["persona", "mostra", "uno", "--actor", "as.noli"], "CASO"),
    (["persona", "unisci", "--provvisorio", "91000370196", "--definitivo", "X", "--actor", "as.noli"], "--motivo"),
    (["persona", "risolvi", "1", "--actor", "as.noli"], "--esito"),
    (["atti", "elenco"], "CASO"),
    (["atti", "genera", "1", "patto_da_firmare", "--actor", "as.noli", "--contenuti", "non-esiste.json"],
     "non-esiste.json"),
]


@pytest.mark.parametrize("args, named", BAD_INPUT, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_input_is_one_italian_line_naming_what_is_wrong_and_a_non_zero_exit(cli_database, args, named):
    result = runner.invoke(app, args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Errore: "), result.output
    assert named in lines[0]
    assert english_in(result.output) == [], result.output
    assert len(lines[0]) <= 200


def test_a_report_named_for_one_format_is_written_in_that_format(cli_database):
    result = runner.invoke(app, ["report", "--anno", "2026", "--out", "relazione.csv"])
    assert result.exit_code == 0, result.output
    assert (cli_database / "relazione.csv").read_text(encoding="utf-8").count(";") > 0 or \
        (cli_database / "relazione.csv").read_text(encoding="utf-8").count(",") > 0
