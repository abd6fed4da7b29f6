"""Which cases belong to an Ambito, stated once for the nightly jobs (sweep, obligations, tallies).

A case's Ambito is its comune's Ambito (`comune.ambito_code`); a case placed in no comune belongs to the
instance's default Ambito. Today the condition reads the comune table (a subquery, the "comune join"); when
`case_file.ambito_code` exists this is the one function to switch to the column.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store.tables import Comune, case_t

comune_t = Comune.__table__


def case_in_ambito(ambito: Any) -> Any:
    """SQL condition over `case_file`: the case belongs to `ambito` (a domain.conditions.AmbitoScope, or None:
    true, every case of the instance)."""
    if ambito is None:
        return sa.true()
    placed = case_t.c.comune_istat.in_(sa.select(comune_t.c.istat).where(comune_t.c.ambito_code == ambito.code)
                                       .scalar_subquery())
    return sa.or_(placed, case_t.c.comune_istat.is_(None)) if ambito.default else placed


def comune_in_ambito(ambito: Any, comune_istat: str | None) -> bool:
    """The same rule in Python, for a record that names its comune (None: the default Ambito's)."""
    if ambito is None:
        return True
    return ambito.default if comune_istat is None else comune_istat in ambito.comuni
