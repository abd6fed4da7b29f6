"""Text output of `legami`: cells in Italian (dd/mm/yyyy, sì/no) and tables that fit the terminal (100 columns at
most): long cells wrap inside their column; a table with more columns than fit (a tally per comune) is printed in
sections that repeat its first columns."""
from __future__ import annotations

import re
import textwrap
from datetime import date, datetime, time
from typing import Any

import typer

from cli.italian import width
from domain.italian import as_rome, format_date, parse_iso

GAP = "  "
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?$")


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], *, repeat: int = 0) -> None:
    """Print `rows` under `columns` ((key, header) pairs). With `repeat`, a table too wide for the terminal is cut
    into sections of columns, each repeating the first `repeat` columns; otherwise its widest columns wrap."""
    if not rows:
        typer.echo("(nessun risultato)")
        return
    header = [h for _, h in columns]
    body = [[cell(r.get(k)) for k, _ in columns] for r in rows]
    total = width()
    natural = [max(len(line) for text in col for line in (text.splitlines() or [""]))
               for col in zip(header, *body)]
    if repeat and _span(natural) > total:
        for n, section in enumerate(_sections(natural, body, repeat, total)):
            if n:
                typer.echo("")
            widths = [_section_width(i, natural, body, repeat) for i in section]
            _print([header[i] for i in section], [[row[i] for i in section] for row in body], widths, total)
        return
    _print(header, body, _shrink(natural, total), total)


def _span(widths: list[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _shrink(widths: list[int], total: int, floor: int = 8) -> list[int]:
    widths = list(widths)
    while _span(widths) > total:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= floor:
            break
        widths[widest] -= 1
    return widths


def _section_width(i: int, natural: list[int], body: list[list[str]], repeat: int) -> int:
    if i < repeat:
        return min(natural[i], 36)
    values = max(len(row[i]) for row in body)
    return max(values, min(natural[i], 12))  # a long header wraps over a column of short numbers


def _sections(natural: list[int], body: list[list[str]], repeat: int, total: int) -> list[list[int]]:
    fixed = list(range(repeat))
    sections: list[list[int]] = []
    current: list[int] = []
    for i in range(repeat, len(natural)):
        trial = [_section_width(j, natural, body, repeat) for j in fixed + current + [i]]
        if current and _span(trial) > total:
            sections.append(fixed + current)
            current = []
        current.append(i)
    sections.append(fixed + current)
    return sections


def _print(header: list[str], body: list[list[str]], widths: list[int], total: int) -> None:
    for n, row in enumerate([header, *body]):
        wrapped = [_wrap(text, w) for text, w in zip(row, widths)]
        for line in range(max(len(w) for w in wrapped)):
            parts = [(w[line] if line < len(w) else "").ljust(size) for w, size in zip(wrapped, widths)]
            typer.echo(GAP.join(parts).rstrip()[:total])
        if n == 0:
            typer.echo(GAP.join("-" * w for w in widths))


def _wrap(text: str, size: int) -> list[str]:
    lines = []
    for part in text.splitlines() or [""]:
        lines += textwrap.wrap(part, size, break_on_hyphens=False) or [""]
    return lines


def say(text: str = "") -> None:
    """A message for people: each of its lines wrapped to the terminal (a long path or hash stays whole)."""
    lines = []
    for line in text.split("\n"):
        indent = " " * (len(line) - len(line.lstrip()))
        lines += textwrap.wrap(line, width(), subsequent_indent=indent + "  ", break_long_words=False,
                               break_on_hyphens=False) or [""]
    typer.echo("\n".join(lines))


def records(rows: list[dict[str, Any]], title: str, fields: list[tuple[str, str]]) -> None:
    """Print each row as a block: its `title` on a line, then one wrapped «label: value» line per field that has
    a value (for rows with long texts, where a table would be a column of fragments)."""
    if not rows:
        typer.echo("(nessun risultato)")
        return
    for n, row in enumerate(rows):
        if n:
            typer.echo("")
        labelled("", row.get(title))
        for key, label in fields:
            if row.get(key) not in (None, "", []):
                labelled(label, row[key], indent=2)


def labelled(label: str, value: Any, *, indent: int = 0) -> None:
    """One «label: value» line, wrapped to the terminal with the continuation indented."""
    pad = " " * indent
    text = f"{pad}{label}: {cell(value)}" if label else f"{pad}{cell(value)}"
    typer.echo("\n".join(textwrap.wrap(text, width(), subsequent_indent=pad + "    ", break_on_hyphens=False)
                         or [text]))


def cell(value: Any) -> str:
    """A value as a social worker reads it: dates dd/mm/yyyy (with the hour in Europe/Rome when it is not
    midnight), sì/no, lists and records spelled out."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, list):
        return (" · " if any(isinstance(v, dict) for v in value) else ", ").join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return format_date(value)
    text = str(value)
    if _ISO.match(text):
        try:
            return when(parse_iso(text))
        except ValueError:
            return text
    return text


def when(value: date | datetime) -> str:
    """dd/mm/yyyy, or dd/mm/yyyy hh:mm for a moment that is not midnight in Europe/Rome."""
    if not isinstance(value, datetime):
        return format_date(value)
    local = as_rome(value)  # a naive one is UTC, as the database keeps it
    return f"{local:%d/%m/%Y}" if local.time() == time(0) else f"{local:%d/%m/%Y %H:%M}"


def first(items: list[str], shown: int = 6) -> str:
    """A readable cell: the first few and how many in all (the JSON output keeps every one)."""
    text = ", ".join(items[:shown])
    return f"{len(items)}: {text}, …" if len(items) > shown else text

