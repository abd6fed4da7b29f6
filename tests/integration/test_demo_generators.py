"""`generate_demo` runs every registered case type's generator with the context, and what it opens is real."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from pydantic import Field

from domain.casetype import CaseType, IndicatorGroup
from domain.common import Form, Persona
from domain.demo import generator
from domain.fields import FieldClass
from domain.registry import register, unregister
from domain.workflow import Role, State, Transition, Workflow
from services.demo import generate_demo
from store.db import make_engine
from store.tables import case_t, transition_t

TODAY = date(2026, 3, 2)


class Apertura(Form):
    persona: Persona = Field(title="Persona")
    importo: int = Field(title="Importo", ge=0)


PROVA = Workflow(
    case_type="prova_demo", label="Misura di prova della demo",
    states=(State("OPEN", "Aperta"), State("DONE", "Chiusa", terminal=True)),
    transitions=(Transition("apri", "Apertura", (), "OPEN", frozenset({Role.SOCIAL_WORKER}), data=Apertura),
                 Transition("chiudi", "Chiusura", ("OPEN",), "DONE", frozenset({Role.SOCIAL_WORKER}))),
)
calls: list = []


def _summary(tally) -> dict:
    return {"prova_demo_aperti": sum(tally.cases.get("prova_demo", {}).values())}


@generator(order=15, summary=_summary)
def fake_generator(ctx) -> None:
    calls.append(ctx)
    comune = ctx.comuni[0]
    worker = ctx.workers[comune.sub_ambito][0]
    run = ctx.open("prova_demo", worker, ctx.first_day, {"persona": ctx.persona(ctx.rng, comune, 30, 60),
                                                         "importo": 100}, comune=comune.istat)
    ctx.advance(run, "chiudi", worker, ctx.nwd(ctx.first_day + (TODAY - ctx.first_day) // 2))
    ctx.advance(run, "chiudi", worker, date(2026, 12, 1))  # after today: refused by the context, not fired


@pytest.fixture
def prova_registered():
    calls.clear()
    register(CaseType(workflow=PROVA, group=IndicatorGroup("prova_demo", "Prova demo"),
                      fields={"importo": FieldClass.ADMINISTRATIVE}, demo=fake_generator))
    yield
    unregister(PROVA.case_type)


def test_a_case_type_registered_with_a_generator_gets_its_cases_in_the_demo(db_url, prova_registered):
    engine = make_engine(db_url)
    try:
        summary = generate_demo(engine, year=2026, seed=7, scale=0, today=TODAY)
        with engine.connect() as conn:
            cases = conn.execute(sa.select(case_t.c.id, case_t.c.state)
                                 .where(case_t.c.case_type == "prova_demo")).all()
            steps = conn.execute(sa.select(transition_t.c.transition).where(transition_t.c.case_id == cases[0].id)
                                 .order_by(transition_t.c.seq)).scalars().all()
    finally:
        engine.dispose()
    assert len(calls) == 1
    assert calls[0].year == 2026 and calls[0].today == TODAY and calls[0].users(Role.CSC_ADMIN)
    assert [c.state for c in cases] == ["DONE"]
    assert steps == ["apri", "chiudi"]
    assert summary["cases"]["prova_demo"] == {"DONE": 1}
    assert summary["prova_demo_aperti"] == 1
