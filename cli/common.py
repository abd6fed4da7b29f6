"""The edge of every `legami` command: the engine, the acting user, argument parsing, output, and errors.

Domain errors (refused access, unknown case or user, bad data) become one Italian line on stderr and exit
code 1 here, and only here; nothing below the CLI prints or exits.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer

from cli.italian import file_error
from cli.tables import cell, first, labelled, records, say, table, when  # noqa: F401 - output helpers, re-exported
from config.settings import get_settings
from domain.errors import DomainError, InvalidData
from domain.italian import parse_date

JsonOpt = typer.Option(False, "--json", help="Stampa in JSON.")
ADMIN = "Comando amministrativo: opera su tutti i dati del distretto."


def engine():
    from store.db import cached_engine

    return cached_engine(get_settings().database_url)


def case_service():
    """The unscoped case service: only for administrative commands (the system acts, not a person)."""
    from services.cases import CaseService

    return CaseService(engine())


def scoped_service():
    """The case service behind the scope check, as the web pages and the API use it."""
    from services.access import ScopedCaseService

    return ScopedCaseService(case_service())


def principal(username: str):
    """The user named by --actor, with their role and scope (call it inside `run`)."""
    from domain.access import AccessDenied
    from services.access import principal_for

    try:
        return principal_for(engine(), username)
    except AccessDenied as exc:
        raise AccessDenied(f"{exc.reason} («{username}»)") from None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Errore: {message}", err=True)
    raise typer.Exit(code)


def run(fn):
    """Translate domain errors to Italian messages and a non-zero exit, at the edge only."""
    try:
        return fn()
    except InvalidData as exc:
        if len(exc.errors) == 1:  # one line naming the field
            fail(f"dati non validi: {exc.errors[0]}")
        typer.echo(f"Errore: dati non validi ({len(exc.errors)} campi)", err=True)
        for e in exc.errors:
            typer.echo(f"  - {e}", err=True)
        raise typer.Exit(1)
    except (DomainError, ValueError) as exc:  # ValueError: configuration files and options, in Italian
        fail(str(exc))


def parse_data(data: Optional[str]) -> dict[str, Any]:
    """--data: a JSON object, or @file.json; a missing file or bad JSON is one Italian line naming it."""
    if not data:
        return {}
    source = "--data"
    text = data
    if data.startswith("@"):
        source = f"--data: file «{data[1:]}»"
        try:
            text = Path(data[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--data: {file_error(exc)}")
        except UnicodeDecodeError:
            fail(f"{source}: non è un testo UTF-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{source}: JSON non valido alla riga {exc.lineno}, colonna {exc.colno}")
    if not isinstance(value, dict):
        fail(f"{source}: serve un oggetto JSON ({{\"campo\": valore, …}})")
    return value


def parse_when(value: Optional[str], option: str = "--efficace") -> date | datetime | None:
    """A date as the rest of Legami reads it (`domain.italian.parse_date`), or an ISO 8601 date-time."""
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: data non valida «{value}» (gg/mm/aaaa, aaaa-mm-gg o ISO 8601)")


def as_of(value: Optional[str], option: str = "--as-of") -> date:
    when = parse_when(value, option)
    if when is None:
        from flows.jobs import today_in_rome

        return today_in_rome()
    return when if not isinstance(when, datetime) else when.date()


def day_in_year(year: int, value: Optional[str]) -> date:
    """The as-of day of a yearly figure: the one given, else today or the year's last day if it is over."""
    return as_of(value) if value else min(as_of(None), date(year, 12, 31))
