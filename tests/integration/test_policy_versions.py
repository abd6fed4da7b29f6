"""Each case keeps the policy version it started under when a newer one is loaded."""
from __future__ import annotations

from datetime import date

import pytest

from config.policy_files import load_policies
from domain.errors import GuardRefused
from domain.policy import Policy
from services.queries import case_detail
from services.setup import load_policy

from .patto_steps import ASSEGNA, VALUTAZIONE, open_patto, patto_firmato


def stricter_policy() -> Policy:
    base = load_policies()[0]
    values = {**base.values, "patto": {**base.values["patto"], "importo_massimo": 1500.0}}
    return Policy("2026.1", date(2026, 1, 13), values, "tetto ridotto a 1.500 €")


def test_a_case_keeps_its_policy_while_new_cases_take_the_newer_one(service, engine):
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    old_case = open_patto(service, worker)  # 12/01/2026, under 2025.1
    with engine.begin() as conn:
        assert load_policy(conn, stricter_policy()) is True
        assert load_policy(conn, stricter_policy()) is False  # a version is never rewritten
    new_case = service.open_case(case_type="patto", actor=worker, comune_istat="019035",
                                 effective_at=date(2026, 1, 14),
                                 data={"persona": {"codice_fiscale": "RSSMRA85T10A562S", "cognome": "Rossi",
                                                   "nome": "Mario", "data_nascita": "10/12/1985"},
                                       "fonte": "comune", "bisogno": "economico"})
    assert case_detail(engine, old_case)["versione_politica"] == "2025.1"
    assert case_detail(engine, new_case)["versione_politica"] == "2026.1"

    for case_id in (old_case, new_case):
        service.advance(case_id=case_id, transition="assegna", actor=coord, data=ASSEGNA,
                        effective_at=date(2026, 1, 14))
        service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                        effective_at=date(2026, 1, 20))
    two_thousand = patto_firmato(amount="400", months=5)  # 2,000 €: within 6,000, above 1,500
    service.advance(case_id=old_case, transition="attiva", actor=worker, data=two_thousand,
                    effective_at=date(2026, 2, 2))
    with pytest.raises(GuardRefused, match=r"oltre il tetto del patto \(€ 1\.500,00\)"):
        service.advance(case_id=new_case, transition="attiva", actor=worker, data=two_thousand,
                        effective_at=date(2026, 2, 2))
    assert case_detail(engine, old_case)["stato"] == "ACTIVE"
    assert case_detail(engine, new_case)["stato"] == "DRAFTING"
