"""Which cases, and which deadlines, belong to an Ambito, stated once for the nightly jobs (sweep, obligations,
tallies) and the pages that read one Ambito's deadlines (Oggi, the calendar feed).

A case's Ambito is its own column, `case_file.ambito_code` (0018_case_ambito: the comune's Ambito, or for a record
placed in no comune the opener's, else the default), read through the index that leads with it. A deadline
carries its case's (`deadline.ambito_code`, 0023_deadline_ambito: written with the row, moved with a transferred
case), so one Ambito's open deadlines are read by the index (ambito_code, status, due) instead of every Ambito's.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store.tables import case_t, deadline_t


def case_in_ambito(ambito: Any) -> Any:
    """SQL condition over `case_file`: the case belongs to `ambito` (a domain.conditions.AmbitoScope, or None:
    true, every case of the instance)."""
    if ambito is None:
        return sa.true()
    return case_t.c.ambito_code == ambito.code



def deadline_in_ambito(ambito: Any) -> Any:
    """SQL condition over `deadline`: its case belongs to `ambito` (as `case_in_ambito`: an AmbitoScope or None)."""
    if ambito is None:
        return sa.true()
    return deadline_t.c.ambito_code == ambito.code
