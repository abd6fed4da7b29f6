"""Every CSV Legami writes goes through here: a cell that a spreadsheet would read as a formula is neutralised.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and, after a tab or a
carriage return, the same) as a formula: `=HYPERLINK(...)` or `+cmd|' /C calc'!A0` typed into a protocol
number would run on the office's computer that opens the public ranking (CSV injection, OWASP). Such a cell
gets a leading apostrophe, which spreadsheets show as text and do not display. Plain numbers (`-3`, `+1,5`)
are left as they are: they are no formula, and a report's negative values must stay numbers.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def safe_cell(value: Any) -> Any:
    """The value, with a leading apostrophe if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer's writerow/writerows, each cell through `safe_cell`."""

    def __init__(self, stream: Any, **options: Any):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **options: Any) -> SafeWriter:
    """Use instead of csv.writer (a test keeps every other csv.writer out of the code)."""
    return SafeWriter(stream, **options)
