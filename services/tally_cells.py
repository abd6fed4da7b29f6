"""The small-cell rule every tally cell shares: a cell is hidden by the people behind it, and a single hidden
cell's complement too. The period counted and the breakdown keys are domain.indicators' and
store/tallies/keys.py's.
"""
from __future__ import annotations

from typing import Any


def cell(value: Any, people: int | None, threshold: int) -> dict[str, Any]:
    """`people`: how many people the cell is about (None: not about people, never hidden)."""
    hidden = people is not None and 0 < people < threshold
    return {"valore": None if hidden else value, "n": None if hidden else people, "soppresso": hidden}


def suppress_complements(lines: list[dict], total: dict) -> list[dict]:
    """A single hidden cell could be recovered from the total: hide the smallest visible one too."""
    hidden = [line for line in lines if line["soppresso"]]
    visible = [line for line in lines if not line["soppresso"] and line["n"]]
    if len(hidden) == 1 and not total["soppresso"] and visible:
        smallest = min(visible, key=lambda line: line["n"])
        smallest.update(valore=None, n=None, soppresso=True)
    return lines
