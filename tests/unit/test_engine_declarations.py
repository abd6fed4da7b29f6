"""The declarations check themselves: a broken one never loads, with an Italian message."""
from dataclasses import replace

import pytest
from pydantic import BaseModel

from domain.errors import InvalidData
from domain.registry import all_workflows, get_workflow
from domain.workflow import (
    Basis,
    DeadlineRule,
    Outcome,
    OutcomeRule,
    Role,
    Source,
    State,
    Transition,
    Workflow,
    declaration_problems,
)
from tests.unit.fakes import POLICY, fire

R = Role
EVERYONE = frozenset({R.SOCIAL_WORKER})


@pytest.mark.parametrize("wf", [pytest.param(wf, id=wf.case_type) for wf in all_workflows()])
def test_every_declaration_passes_its_own_consistency_check(wf):
    assert declaration_problems(wf) == []
    assert wf.opening_transitions(), "a case type must be openable"
    assert any(s.terminal for s in wf.states), "every case must be able to end"


@pytest.mark.parametrize("wf", [pytest.param(wf, id=wf.case_type) for wf in all_workflows()])
def test_every_non_terminal_state_has_a_way_out(wf):
    stuck = [s.name for s in wf.states if not s.terminal and not wf.transitions_from(s.name)]
    assert stuck == []


@pytest.mark.parametrize("wf", [pytest.param(wf, id=wf.case_type) for wf in all_workflows()])
def test_every_policy_key_a_deadline_reads_exists_in_the_policy(wf):
    keys = [r.days for t in wf.transitions for r in t.starts if isinstance(r.days, str)]
    for key in keys:
        assert int(POLICY.get(key)) >= 0, key


def _wf(states, transitions, **kw) -> Workflow:
    return Workflow(case_type="prova", label="Prova", states=tuple(states), transitions=tuple(transitions), **kw)


OPEN, DONE = State("OPEN", "Aperto"), State("DONE", "Chiuso", terminal=True)
OPENS = Transition("apri", "Apertura", (), "OPEN", EVERYONE)
ENDS = Transition("chiudi", "Chiusura", ("OPEN",), "DONE", EVERYONE)


def test_a_minimal_declaration_loads():
    wf = _wf([OPEN, DONE], [OPENS, ENDS])
    assert wf.transition("chiudi") is ENDS
    assert wf.transition("nessuna") is None


def test_a_transition_to_an_unknown_state_is_refused():
    with pytest.raises(ValueError) as refused:
        _wf([OPEN, DONE], [OPENS, ENDS, Transition("sposta", "Sposta", ("OPEN",), "LIMBO", EVERYONE)])
    assert str(refused.value) == "dichiarazione 'prova' non coerente: sposta: stato sconosciuto LIMBO"


def test_a_transition_from_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="riapri: stato sconosciuto ALTROVE"):
        _wf([OPEN, DONE], [OPENS, ENDS, Transition("riapri", "Riapri", ("ALTROVE",), "OPEN", EVERYONE)])


def test_an_unreachable_state_is_refused():
    with pytest.raises(ValueError) as refused:
        _wf([OPEN, DONE, State("ORPHAN", "Orfano")], [OPENS, ENDS])
    assert str(refused.value) == "dichiarazione 'prova' non coerente: stato ORPHAN non raggiungibile"


def test_an_exit_from_a_terminal_state_is_refused():
    with pytest.raises(ValueError) as refused:
        _wf([OPEN, DONE], [OPENS, ENDS, Transition("riapri", "Riapertura", ("DONE",), "OPEN", EVERYONE)])
    assert str(refused.value) == "dichiarazione 'prova' non coerente: riapri: esce dallo stato terminale DONE"


def test_a_declaration_without_an_opening_transition_is_refused():
    with pytest.raises(ValueError, match="manca una transizione di apertura"):
        _wf([OPEN, DONE], [ENDS])


def test_duplicate_transition_names_and_states_are_refused():
    with pytest.raises(ValueError, match="nomi di transizione duplicati"):
        _wf([OPEN, DONE], [OPENS, ENDS, replace(ENDS, label="Altra chiusura")])
    with pytest.raises(ValueError, match="stati duplicati"):
        _wf([OPEN, DONE, State("OPEN", "Aperto di nuovo")], [OPENS, ENDS])


class _Form(BaseModel):
    nota: str


def test_an_owner_or_kind_field_missing_from_the_form_is_refused():
    with pytest.raises(ValueError, match="assegna: campo assegnatario assegnatario assente"):
        _wf([OPEN, DONE], [OPENS, ENDS, Transition("assegna", "Assegna", ("OPEN",), "OPEN", EVERYONE,
                                                   data=_Form, assigns_owner="assegnatario")])
    with pytest.raises(ValueError, match="classifica: campo tipologia tipologia assente"):
        _wf([OPEN, DONE], [OPENS, ENDS, Transition("classifica", "Classifica", ("OPEN",), "OPEN", EVERYONE,
                                                   sets_kind="tipologia")])


def test_an_outcome_without_an_outcome_rule_is_refused():
    with pytest.raises(ValueError, match="chiudi: imposta l'esito ma manca la regola di esito"):
        _wf([OPEN, DONE], [OPENS, replace(ENDS, sets_outcome=True)])
    rule = OutcomeRule("sempre positivo", lambda data, policy: Outcome.POSITIVE)
    assert _wf([OPEN, DONE], [OPENS, replace(ENDS, sets_outcome=True)], outcome=rule).outcome is rule


def test_a_deadline_met_by_an_unknown_transition_is_refused():
    rule = DeadlineRule("x", "Scadenza", 5, Basis.CALENDAR, Source.CONFIGURED, met_by=("inesistente",))
    with pytest.raises(ValueError, match="scadenza soddisfatta da transizione sconosciuta inesistente"):
        _wf([OPEN, DONE], [replace(OPENS, starts=(rule,)), ENDS])


def test_all_problems_are_reported_at_once():
    with pytest.raises(ValueError) as refused:
        _wf([OPEN, DONE, State("ORPHAN", "Orfano")],
            [OPENS, ENDS, Transition("riapri", "Riapertura", ("DONE",), "LIMBO", EVERYONE)])
    message = str(refused.value)
    assert "riapri: stato sconosciuto LIMBO" in message
    assert "riapri: esce dallo stato terminale DONE" in message
    assert "stato ORPHAN non raggiungibile" in message


def test_a_broken_copy_of_a_real_declaration_is_refused_too():
    patto = get_workflow("patto")
    reopen = Transition("riapri", "Riapertura", ("CLOSED",), "ACTIVE", frozenset({R.SOCIAL_WORKER}))
    with pytest.raises(ValueError, match="dichiarazione 'patto' non coerente: riapri: esce dallo stato terminale"):
        replace(patto, transitions=(*patto.transitions, reopen))


def test_a_kind_is_required_at_opening_when_no_later_step_chooses_it():
    wf = _wf([OPEN, DONE], [OPENS, ENDS], kinds=(("a", "Tipo A"), ("b", "Tipo B")), district_level=True,
             has_person=False)
    with pytest.raises(InvalidData) as invalid:
        fire("prova", "apri", wf=wf, payload={})
    assert str(invalid.value.errors[0]) == "«Tipologia»: valore non ammesso: scegliere tra a, b"
    assert fire("prova", "apri", wf=wf, payload={}, kind="b").kind == "b"


def test_describing_deadline_days_for_people():
    fixed = DeadlineRule("a", "A", 10, Basis.WORKING, Source.STATUTORY, met_by=())
    configured = DeadlineRule("b", "B", "patto.giorni_firma", Basis.CALENDAR, Source.CONFIGURED, met_by=())
    computed = DeadlineRule("c", "C", lambda ctx: 3, Basis.CALENDAR, Source.CONFIGURED, met_by=())
    assert fixed.describe_days() == "10 gg lavorativi"
    assert configured.describe_days() == "«patto.giorni_firma» giorni"
    assert computed.describe_days() == "secondo il bando (giorni)"
    assert replace(computed, days_label="come da bando").describe_days() == "come da bando"
