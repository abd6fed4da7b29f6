"""Every transition of every declaration: the allowed path, refusal by role, refusal by state."""
import pytest

from domain.engine import Decision
from domain.errors import RoleNotAllowed, TransitionNotAllowed
from domain.registry import all_workflows
from domain.workflow import ROLE_LABELS, Role
from tests.unit.fakes import ACTORS, VALID, all_transitions, case_in, fire


def _id(wf, t, *rest):
    return "-".join([wf.case_type, t.name, *(str(r) for r in rest)])


ALLOWED = [
    pytest.param(wf, t, source, role, id=_id(wf, t, source or "apertura", role.value))
    for wf, t in all_transitions()
    for source in (t.sources or (None,))
    for role in sorted(t.roles)
]
FORBIDDEN_ROLES = [
    pytest.param(wf, t, role, id=_id(wf, t, role.value))
    for wf, t in all_transitions()
    for role in sorted(set(Role) - t.roles)
]
EVERY_TRANSITION = [pytest.param(wf, t, id=_id(wf, t)) for wf, t in all_transitions()]


def test_every_declared_transition_has_a_valid_payload_and_no_payload_is_stale():
    declared = {wf.case_type: {t.name for t in wf.transitions} for wf in all_workflows()}
    assert {k: set(v) for k, v in VALID.items()} == declared


def test_the_seven_case_types_are_declared():
    assert {wf.case_type for wf in all_workflows()} == {"patto", "fna_bando", "fna_domanda", "sad_adesione", "sad_caso",
                                                        "bonus_famiglia", "misura_esterna"}


@pytest.mark.parametrize(("wf", "t", "source", "role"), ALLOWED)
def test_an_allowed_role_with_valid_data_moves_the_case_to_the_target_state(wf, t, source, role):
    decision = fire(wf.case_type, t.name, state=source, role=role)

    assert isinstance(decision, Decision)
    assert decision.transition is t
    assert decision.from_state == source
    assert decision.to_state == t.target


@pytest.mark.parametrize(("wf", "t", "role"), FORBIDDEN_ROLES)
def test_a_role_not_declared_for_the_transition_is_refused_with_its_italian_label(wf, t, role):
    with pytest.raises(RoleNotAllowed) as refused:
        fire(wf.case_type, t.name, role=role)

    message = str(refused.value)
    assert f"il ruolo «{ROLE_LABELS[role]}» non può eseguire «{t.label}»" in message
    for allowed in t.roles:
        assert ROLE_LABELS[allowed] in message


@pytest.mark.parametrize(("wf", "t"), EVERY_TRANSITION)
def test_a_transition_is_refused_from_every_state_outside_its_sources(wf, t):
    outside = [s for s in wf.states if s.name not in t.sources]
    assert outside, "a transition leaving from every state would make terminal states non-terminal"
    for state in outside:
        with pytest.raises(TransitionNotAllowed) as refused:
            fire(wf.case_type, t.name, case=case_in(wf.case_type, state.name))
        assert str(refused.value) == f"dallo stato «{state.label}» non è possibile «{t.label}»", state.name


@pytest.mark.parametrize(("wf", "t"), [p for p in EVERY_TRANSITION if p.values[1].sources])
def test_a_transition_that_does_not_open_a_case_needs_an_existing_case(wf, t):
    with pytest.raises(TransitionNotAllowed, match="non apre un caso: serve un caso esistente"):
        fire(wf.case_type, t.name, case=None)


def test_the_state_is_checked_before_the_role():
    # a beneficiary may not assign, and a closed pact cannot be assigned: the state answers first
    with pytest.raises(TransitionNotAllowed):
        fire("patto", "assegna", state="CLOSED", role=Role.BENEFICIARY)


def test_every_role_used_by_a_declaration_has_a_test_actor():
    used = {r for _, t in all_transitions() for r in t.roles}
    assert used <= set(ACTORS)
