"""Dates "in the future" are judged against the engine's clock, not the machine's: decisions are reproducible."""
from __future__ import annotations

from datetime import datetime

import pytest

from domain.errors import InvalidData
from tests.unit.fakes import ROME, fire, isee


def test_a_dsu_after_the_engines_day_is_refused_even_if_the_machine_clock_is_later():
    with pytest.raises(InvalidData, match="Data di presentazione DSU».*nel futuro"):
        fire("patto", "avvia_redazione", patch={"isee": isee("ordinario", "6000.00", dsu="2026-11-21")})


def test_a_dsu_after_the_machines_day_is_accepted_when_the_engines_clock_is_later():
    later = datetime(2031, 3, 2, 12, 0, tzinfo=ROME)
    decision = fire("fna_domanda", "aggiorna_isee", at=later, now=later,
                    patch={"isee": isee("sociosanitario", "17000.00", dsu="2031-03-01")})
    assert decision.case_data["isee"]["data_dsu"] == "2031-03-01"
