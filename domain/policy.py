"""Policies: versioned amounts, caps, day limits and targets (data, never code)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import EffectiveDateInvalid


class NoPolicyInForce(EffectiveDateInvalid):
    """No loaded policy covers the effective date: an Italian refusal naming the date (a 422, a form error on
    «Efficace il», one line and exit 1 in the CLI), never a traceback."""


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
        if not policies:
            raise NoPolicyInForce(f"nessuna politica in vigore al {on:%d/%m/%Y}: nessuna politica caricata "
                                  "(eseguire «legami init» o «legami policy load»)")
        first = min(p.valid_from for p in policies)
        raise NoPolicyInForce(f"nessuna politica in vigore al {on:%d/%m/%Y}: le politiche caricate valgono dal "
                              f"{first:%d/%m/%Y}; indicare una data di efficacia successiva")
    return max(candidates, key=lambda p: (p.valid_from, p.version))
