"""`patto_precedente` must be a patto the referring worker may read (domain.access's read rule)."""
from __future__ import annotations

from tests.unit.fakes import CREMA, case_in, fire


def test_a_previous_patto_of_the_workers_own_comune_is_accepted():
    def previous_in_crema(world):
        world.cases[4244] = case_in("patto", "CLOSED", id=4244, comune_istat=CREMA, owner="as.altro")

    decision = fire("patto", "segnala", patch={"patto_precedente": 4244}, setup=previous_in_crema)
    assert decision.data["patto_precedente"] == 4244
