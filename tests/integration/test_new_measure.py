"""A further measure is one more declaration and nothing else: engine, store, lists and diagrams take it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import Field

from domain.casetype import CaseType, IndicatorGroup
from domain.common import Form, Persona
from domain.diagram import to_mermaid
from domain.errors import GuardRefused, RoleNotAllowed
from domain.fields import FieldClass
from domain.registry import register, unregister
from domain.validation import Euro, ItalianDate
from domain.workflow import Basis, DeadlineRule, Guard, Role, Source, State, Transition, Workflow
from services.queries import CaseFilter, case_detail, list_cases

from .patto_steps import persona


class DomandaBonus(Form):
    persona: Persona = Field(title="Richiedente")
    figli_minori: int = Field(title="Figli minori", ge=1, le=15)


class Erogazione(Form):
    importo: Euro = Field(title="Importo del bonus (€)", gt=0)
    pagato_il: ItalianDate = Field(title="Data del pagamento")


def at_most_1000(ctx) -> str | None:
    return "il bonus non può superare € 1.000,00" if ctx.data.importo > Decimal(1000) else None


BONUS = Workflow(
    case_type="bonus_prova",
    label="Bonus Famiglia",
    states=(State("SUBMITTED", "Presentata"), State("PAID", "Pagata", terminal=True),
            State("REJECTED", "Respinta", terminal=True)),
    transitions=(
        Transition("presenta", "Presentazione", (), "SUBMITTED", frozenset({Role.CSC_ADMIN}), data=DomandaBonus,
                   starts=(DeadlineRule("esito", "Esito della domanda", 30, Basis.CALENDAR, Source.STATUTORY,
                                        met_by=("paga", "respingi")),)),
        Transition("paga", "Pagamento", ("SUBMITTED",), "PAID", frozenset({Role.CSC_ADMIN}), data=Erogazione,
                   guards=(Guard("importo entro € 1.000", at_most_1000),)),
        Transition("respingi", "Rigetto", ("SUBMITTED",), "REJECTED", frozenset({Role.PLANNING_OFFICE}),
                   requires_reason=True),
    ),
)


@pytest.fixture
def bonus_registered():
    register(CaseType(workflow=BONUS, group=IndicatorGroup("bonus_prova", "Bonus di prova"),
                      fields={"figli_minori": FieldClass.SOCIAL, "pagato_il": FieldClass.ADMINISTRATIVE}))
    yield BONUS
    unregister(BONUS.case_type)


def test_a_measure_declared_in_a_test_is_driven_through_a_real_case(service, engine, bonus_registered):
    csc = service.actor("csc.bianchi")
    case_id = service.open_case(case_type="bonus_prova", actor=csc, comune_istat="019035",
                                effective_at=date(2026, 3, 2),
                                data={"persona": persona(), "figli_minori": 2})
    with pytest.raises(RoleNotAllowed):
        service.advance(case_id=case_id, transition="paga", actor=service.actor("as.rossi"),
                        data={"importo": "500", "pagato_il": "10/03/2026"})
    with pytest.raises(GuardRefused, match="non può superare"):
        service.advance(case_id=case_id, transition="paga", actor=csc,
                        data={"importo": "1500", "pagato_il": "10/03/2026"})
    service.advance(case_id=case_id, transition="paga", actor=csc, effective_at=date(2026, 3, 10),
                    data={"importo": "500", "pagato_il": "10/03/2026"})

    detail = case_detail(engine, case_id)
    assert (detail["tipo_etichetta"], detail["stato_etichetta"]) == ("Bonus Famiglia", "Pagata")
    assert [d["stato"] for d in detail["scadenze"]] == ["met"]
    assert detail["scadenze"][0]["scadenza"] == "2026-04-01"
    assert [r["id"] for r in list_cases(engine, CaseFilter(case_type="bonus_prova"))] == [case_id]
    assert 'SUBMITTED --> PAID: Pagamento' in to_mermaid(BONUS)
