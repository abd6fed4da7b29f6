"""Policies: versioned amounts, caps, day limits and targets (data, never code)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class PolicyKeyMissing(KeyError):
    def __str__(self) -> str:
        return f"la politica non definisce il parametro «{self.args[0]}»"


@dataclass(frozen=True)
class Policy:
    version: str
    valid_from: date
    values: Mapping[str, Any]
    description: str = ""

    def get(self, key: str) -> Any:
        node: Any = self.values
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise PolicyKeyMissing(key)
            node = node[part]
        return node

    def get_or(self, key: str, default: Any) -> Any:
        try:
            return self.get(key)
        except PolicyKeyMissing:
            return default


def policy_in_force(policies: list[Policy], on: date) -> Policy:
    """The newest policy whose validity started on or before `on`."""
    candidates = [p for p in policies if p.valid_from <= on]
    if not candidates:
        raise LookupError(f"nessuna politica in vigore al {on:%d/%m/%Y}")
    return max(candidates, key=lambda p: (p.valid_from, p.version))
