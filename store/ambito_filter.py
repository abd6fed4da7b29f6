"""Which cases belong to an Ambito, stated once for the nightly jobs (sweep, obligations, tallies).

A case's Ambito is its own column, `case_file.ambito_code` (0018_case_ambito: the comune's Ambito, or for a record
placed in no comune the opener's, else the default), read through the index that leads with it.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store.tables import case_t


def case_in_ambito(ambito: Any) -> Any:
    """SQL condition over `case_file`: the case belongs to `ambito` (a domain.conditions.AmbitoScope, or None:
    true, every case of the instance)."""
    if ambito is None:
        return sa.true()
    return case_t.c.ambito_code == ambito.code

