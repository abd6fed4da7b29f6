"""README cannot rot: every `legami` command in its code blocks runs, as written, against a fresh demo.

The «Using it» block runs first and in order (it builds the demo, opens case 865, advances and shows it), then the
`legami` commands of the other blocks. `[…]` marks an optional part, `a|b` alternatives: each command runs without
and with its optional parts, and once per alternative. The servers only show that they parse (`--help`).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from store.db import cached_engine

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {"serve", "serve-flows"}  # long-running: checked to parse, not started
runner = CliRunner()


def readme_commands() -> list[str]:
    """The `legami` commands of README's bash blocks, the «Using it» block first."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    using = text.index("## Using it")
    blocks = sorted(re.finditer(r"```(?:bash|sh)\n(.+?)\n```", text, re.S), key=lambda m: m.start() < using)
    commands = []
    for block in blocks:
        for line in block.group(1).splitlines():
            commands += [part.strip() for part in re.split(r"\s&&\s", line) if part.strip().startswith("legami ")]
    return commands


def variants(command: str) -> list[list[str]]:
    """The argument lists a README line stands for: without and with its `[optional]` parts, each `a|b` alternative."""
    words, optional, inside = [], [], False
    for word in shlex.split(command, comments=True)[1:]:
        opens, closes = word.startswith("["), word.endswith("]")
        inside = inside or opens
        words.append(word[1 if opens else 0:len(word) - 1 if closes else None])
        optional.append(inside)
        inside = inside and not closes
    choices = [w.split("|") if re.fullmatch(r"[\w./-]+(\|[\w./-]+)+", w) else [w] for w in words]
    runs = max([2 if any(optional) else 1] + [len(c) for c in choices])
    return [[c[n % len(c)] for c, opt in zip(choices, optional) if not opt or n % 2] for n in range(runs)]


COMMANDS = readme_commands()


@pytest.fixture(scope="module")
def fresh_folder(tmp_path_factory):
    """An empty folder with README's relative paths (examples/, config/) and its own SQLite database."""
    folder = tmp_path_factory.mktemp("readme")
    for name in ("examples", "config"):
        (folder / name).symlink_to(ROOT / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("LEGAMI_DATABASE_URL", f"sqlite:///{folder / 'legami.db'}")
        for name in ("LEGAMI_SMTP_HOST", "LEGAMI_OUTBOX_DIR", "LEGAMI_AUDIT_DIR", "PREFECT_API_URL"):
            patch.delenv(name, raising=False)
        get_settings.cache_clear()
        cached_engine.cache_clear()
        yield folder
        cached_engine.cache_clear()
        get_settings.cache_clear()


def test_the_readme_shows_the_commands_of_every_group():
    assert len(COMMANDS) >= 25
    shown = {c.split()[1] for c in COMMANDS}
    assert {"init", "demo-data", "case", "workflow", "tally", "report", "backup", "restore"} <= shown


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[:60])
def test_every_readme_command_runs_as_written(fresh_folder, command):
    for args in variants(command):
        if args[0] in SERVERS:
            args = [args[0], "--help"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"README: legami {shlex.join(args)}\n{result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if not {"--json", "--mermaid"} & set(args):  # text for people fits a terminal of 100 columns
            assert max(map(len, result.output.splitlines() or [""])) <= 100, f"legami {shlex.join(args)}"


def test_the_case_the_readme_advances_and_shows_is_the_segnalazione_it_opened(fresh_folder):
    import json

    later = {int(c.split()[3]) for c in COMMANDS if re.match(r"legami case (advance|show) \d+", c)}
    assert len(later) == 1, later
    (number,) = later
    shown = runner.invoke(app, ["case", "show", str(number), "--actor", "coord.crema", "--json"])
    assert shown.exit_code == 0, shown.output
    case = json.loads(shown.output)
    example = json.loads((ROOT / "examples" / "segnalazione.json").read_text(encoding="utf-8"))
    assert (case["tipo"], case["persona"]["codice_fiscale"]) == ("patto", example["persona"]["codice_fiscale"])
    assert [h["transizione"] for h in case["storia"]] == ["segnala", "assegna"]
    assert "<html" in (fresh_folder / "relazione.html").read_text(encoding="utf-8").lower()
