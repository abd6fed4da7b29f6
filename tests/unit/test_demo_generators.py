"""The demo runs the generator each case type declares with itself: every one registered, once, by order."""
from __future__ import annotations

from domain.casetype import CaseType, IndicatorGroup
from domain.demo import allocate, generator
from domain.registry import all_case_types, register, unregister
from domain.workflow import Role, State, Transition, Workflow
from services.demo import demo_generators


def _workflow(case_type: str) -> Workflow:
    return Workflow(
        case_type=case_type, label=f"Prova {case_type}",
        states=(State("OPEN", "Aperta"), State("DONE", "Chiusa", terminal=True)),
        transitions=(Transition("apri", "Apertura", (), "OPEN", frozenset({Role.SOCIAL_WORKER})),
                     Transition("chiudi", "Chiusura", ("OPEN",), "DONE", frozenset({Role.SOCIAL_WORKER}))),
    )


def test_a_registered_generator_is_run_once_even_when_two_types_of_its_family_declare_it():
    @generator(order=15)
    def fake(ctx) -> None:
        pass

    group = IndicatorGroup("prova_demo", "Prova demo")
    for case_type in ("prova_demo_a", "prova_demo_b"):
        register(CaseType(workflow=_workflow(case_type), group=group, demo=fake))
    try:
        assert [g for g in demo_generators() if g is fake] == [fake]
    finally:
        unregister("prova_demo_a")
        unregister("prova_demo_b")
    assert fake not in demo_generators()


def test_generators_run_by_order_so_a_family_runs_after_the_one_whose_cases_it_needs():
    @generator(order=15)
    def between(ctx) -> None:
        pass

    register(CaseType(workflow=_workflow("prova_demo_c"), group=IndicatorGroup("prova_demo", "Prova demo"),
                      demo=between))
    try:
        found = demo_generators()
    finally:
        unregister("prova_demo_c")
    orders = [getattr(g, "order", 0) for g in found]
    assert orders == sorted(orders)
    assert found.index(between) == sum(1 for o in orders if o < 15)


def test_every_built_in_case_type_with_a_generator_is_in_the_demo():
    declared = {id(ct.demo) for ct in all_case_types() if ct.demo is not None}
    assert declared, "nessun tipo di caso dichiara un generatore della demo"
    assert {id(g) for g in demo_generators()} == declared


def test_fates_are_allocated_in_proportion_and_one_of_each_first_at_small_sizes():
    table = (("a", 6), ("b", 3), ("c", 1))
    assert allocate(table, 2) == ["a", "b"]
    hundred = allocate(table, 100)
    assert (hundred.count("a"), hundred.count("b"), hundred.count("c")) == (59, 30, 11)  # 1 each + 97 by 6:3:1
