"""What the engine decides beyond the target state: dates, deadlines, outcome, kind, owner, data."""
import copy
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from domain.engine import Command, NewDeadline, UserView, allowed_transitions, decide
from domain.errors import EffectiveDateInvalid, GuardRefused, InvalidData, RoleNotAllowed, UnknownTransition
from domain.registry import get_workflow
from domain.workflow import Outcome, Role
from tests.unit.fakes import (
    ACTORS,
    AGNADELLO,
    CALENDAR,
    FINAL_CALL_ID,
    NOW,
    PERSON,
    POLICY,
    ROME,
    STATE_SINCE,
    VALID,
    all_transitions,
    case_data,
    case_in,
    district_world,
    fire,
)

R = Role


def _deadlines(decision) -> dict[str, NewDeadline]:
    return {d.kind: d for d in decision.new_deadlines}


# --- the effective date -------------------------------------------------------------------------


def test_an_effective_date_in_the_future_is_refused():
    with pytest.raises(EffectiveDateInvalid, match="^la data di efficacia non può essere nel futuro$"):
        fire("patto", "assegna", at=NOW + timedelta(days=1))


def test_a_few_minutes_of_clock_skew_are_tolerated_but_not_more():
    assert fire("patto", "assegna", at=NOW + timedelta(minutes=4)).to_state == "INTAKE"
    with pytest.raises(EffectiveDateInvalid):
        fire("patto", "assegna", at=NOW + timedelta(minutes=6))


def test_an_effective_date_before_the_previous_step_is_refused():
    with pytest.raises(EffectiveDateInvalid) as refused:
        fire("patto", "assegna", at=STATE_SINCE - timedelta(minutes=1))
    assert str(refused.value) == "la data di efficacia non può precedere il passo precedente (10/11/2026 09:00)"


def test_an_effective_date_equal_to_the_previous_step_is_accepted():
    assert fire("patto", "assegna", at=STATE_SINCE, patch={"primo_colloquio_il": "2026-11-10"}).to_state == "INTAKE"


def test_an_effective_date_without_a_time_zone_is_refused():
    with pytest.raises(EffectiveDateInvalid, match="fuso orario"):
        fire("patto", "assegna", at=datetime(2026, 11, 20, 10, 0))


def test_a_backdated_step_is_accepted_and_recorded_with_its_date():
    at = datetime(2026, 11, 12, 16, 30, tzinfo=ROME)
    decision = fire("patto", "assegna", at=at, patch={"primo_colloquio_il": "2026-11-12"})
    assert decision.effective_at == at


def test_guards_judge_dates_against_the_effective_date_not_the_clock():
    # the interview of 18/11 is after a step dated 12/11
    with pytest.raises(GuardRefused, match="«Data del primo colloquio» \\(18/11/2026\\) è successiva"):
        fire("patto", "assegna", at=datetime(2026, 11, 12, 16, 30, tzinfo=ROME))


# --- the order of the checks ----------------------------------------------------------------------


def test_an_unknown_transition_is_refused_in_italian():
    wf = get_workflow("patto")
    command = Command("approva", ACTORS[R.SOCIAL_WORKER], NOW)
    with pytest.raises(UnknownTransition, match="^la transizione «approva» non esiste per «Patto gener-attivo»$"):
        decide(wf, case_in("patto", "DRAFTING"), command, policy=POLICY, calendar=CALENDAR,
               world=district_world(), now=NOW)


def test_the_role_is_checked_before_the_data():
    with pytest.raises(RoleNotAllowed):
        fire("patto", "attiva", role=R.BENEFICIARY, payload={})


def test_the_effective_date_is_checked_before_the_data():
    with pytest.raises(EffectiveDateInvalid):
        fire("patto", "attiva", payload={}, at=NOW + timedelta(days=2))


def test_the_data_is_checked_before_the_guards():
    with pytest.raises(InvalidData):
        fire("patto", "attiva", patch={"misura_economica": {"importo": "9000.00"}, "informativa_privacy": False})


# --- deadlines --------------------------------------------------------------------------------


def test_a_patto_referral_starts_intake_and_preliminary_analysis_in_working_days():
    # Monday 20/04/2026 in Crema. 10 working days: 21-24/4 (4), Saturday 25/4 is both a weekend and
    # Liberazione, 27-30/4 (8), Friday 1/5 Festa del lavoro, 4/5 (9), 5/5 (10).
    # 25 working days from the referral: 6-8/5 (13), 11-15/5 (18), 18-22/5 (23), 25/5 (24), 26/5 (25).
    decision = fire("patto", "segnala", at=datetime(2026, 4, 20, 10, 0, tzinfo=ROME))

    assert decision.new_deadlines == (
        NewDeadline("presa_in_carico", "Presa in carico", date(2026, 5, 5), "working", "configured"),
        NewDeadline("analisi_preliminare", "Analisi preliminare (dalla segnalazione)", date(2026, 5, 26),
                    "working", "configured"),
    )


def test_the_patron_day_of_the_comune_moves_a_working_day_deadline():
    # 10 working days from Monday 4/5/2026: Crema 18/5; Agnadello loses San Vittore (Friday 8/5): 19/5
    at = datetime(2026, 5, 4, 10, 0, tzinfo=ROME)
    crema = fire("patto", "segnala", at=at)
    agnadello = fire("patto", "segnala", at=at, comune_istat=AGNADELLO)
    assert _deadlines(crema)["presa_in_carico"].due == date(2026, 5, 18)
    assert _deadlines(agnadello)["presa_in_carico"].due == date(2026, 5, 19)


def test_the_signature_deadline_skips_the_immacolata():
    # 20 working days from Friday 20/11/2026: 7/12 is the 11th, 8/12 a holiday, 21/12 the 20th
    decision = fire("patto", "avvia_redazione")
    assert _deadlines(decision)["firma_patto"].due == date(2026, 12, 21)


def test_a_calendar_deadline_falling_on_a_sunday_moves_to_monday():
    # activation on 20/11/2026: monitoring in 30 days is Sunday 20/12 -> Monday 21/12; the pact ends on
    # Saturday 31/10/2026, and 1/11 is Ognissanti and a Sunday: the verification starts Monday 2/11
    decision = fire("patto", "attiva")
    assert _deadlines(decision) == {
        "monitoraggio": NewDeadline("monitoraggio", "Incontro di monitoraggio", date(2026, 12, 21), "calendar",
                                    "configured"),
        "fine_patto": NewDeadline("fine_patto", "Fine del patto: avvio della verifica", date(2026, 11, 2),
                                  "calendar", "configured"),
    }


def test_monitoring_meets_the_open_monitoring_deadline_and_starts_the_next():
    decision = fire("patto", "registra_monitoraggio")
    assert decision.met == ("monitoraggio",)
    assert _deadlines(decision)["monitoraggio"].due == date(2026, 12, 21)


@pytest.mark.parametrize(("case_type", "transition", "met"), [
    ("patto", "assegna", {"presa_in_carico"}),
    ("patto", "avvia_redazione", {"analisi_preliminare"}),
    ("patto", "attiva", {"firma_patto"}),
    ("patto", "avvia_verifica", {"monitoraggio"}),
    ("patto", "riprendi", {"sospensione"}),
    ("patto", "chiudi", {"verifica"}),
    ("patto", "archivia", set()),
    ("fna_bando", "apri", set()),
    ("fna_bando", "pubblica_graduatoria_definitiva", {"graduatoria_definitiva"}),
    ("fna_domanda", "ricevi_integrazioni", {"integrazioni"}),
    ("fna_domanda", "archivia", set()),
    ("fna_domanda", "rigetta", {"esito_preavviso"}),
    ("fna_domanda", "finanzia", {"esito_finanziamento"}),
    ("sad_adesione", "rispondi", {"risposta_ente"}),
    ("sad_adesione", "rinnova", {"scadenza_accreditamento"}),
    ("sad_caso", "prima_visita", {"prima_visita"}),
    ("sad_caso", "avvia_revisione", {"revisione_pai"}),
])
def test_the_meeting_transition_reports_the_deadline_kinds_it_meets(case_type, transition, met):
    assert set(fire(case_type, transition).met) == met


@pytest.mark.parametrize(("case_type", "transition", "expired"), [
    ("patto", "avvia_verifica", {"fine_patto"}),
    ("fna_bando", "apri", {"apertura_bando"}),
    ("fna_bando", "chiudi", {"chiusura_bando"}),
    ("fna_domanda", "archivia", {"integrazioni"}),
    ("sad_adesione", "scade", {"scadenza_accreditamento"}),
    ("patto", "chiudi", set()),
])
def test_a_deadline_whose_automatic_consequence_runs_expires_instead_of_being_met(case_type, transition, expired):
    """A lapsed reply window or a reached end date is not an office's missed deadline."""
    decision = fire(case_type, transition)
    assert set(decision.expired) == expired
    assert not (set(decision.met) & expired)


def test_an_fna_admission_starts_the_funding_term_set_by_the_call():
    assert _deadlines(fire("fna_domanda", "ammetti"))["esito_finanziamento"].due == date(2026, 12, 21)

    def sixty_days(world):
        world.set_case_data(FINAL_CALL_ID, giorni_esito=60)

    deadline = _deadlines(fire("fna_domanda", "ammetti", setup=sixty_days))["esito_finanziamento"]
    assert (deadline.due, deadline.source) == (date(2027, 1, 19), "statutory")


def test_after_a_rejection_notice_the_office_decides_within_ten_days_plus_thirty():
    # art. 10-bis L. 241/90: the 10 days for observations interrupt the term, which restarts (30 days)
    deadline = _deadlines(fire("fna_domanda", "preavviso_rigetto"))["esito_preavviso"]
    assert (deadline.due, deadline.basis, deadline.source) == (date(2026, 12, 30), "calendar", "statutory")


def test_a_call_approval_schedules_its_opening_and_closing():
    decision = fire("fna_bando", "approva", patch={"apertura": "2026-12-01", "chiusura": "2026-12-31"})
    # closing the day after 31/12: 1/1/2027 is Capodanno -> Saturday 2/1 -> Monday 4/1
    assert {k: d.due for k, d in _deadlines(decision).items()} == {
        "apertura_bando": date(2026, 12, 1),
        "chiusura_bando": date(2027, 1, 4),
    }


def test_an_urgent_sad_referral_gets_a_home_visit_within_two_working_days():
    normal = fire("sad_caso", "segnala")
    urgent = fire("sad_caso", "segnala", patch={"urgente": True})
    assert _deadlines(normal)["valutazione"].due == date(2026, 12, 4)
    assert _deadlines(urgent)["valutazione"].due == date(2026, 11, 24)


def test_an_adhesion_expires_at_the_end_of_its_validity():
    assert _deadlines(fire("sad_adesione", "firma"))["scadenza_accreditamento"].due == date(2027, 11, 18)


@pytest.mark.parametrize(("wf", "t"), [pytest.param(wf, t, id=f"{wf.case_type}-{t.name}")
                                       for wf, t in all_transitions()])
def test_every_transition_starts_the_deadlines_it_declares_and_cancels_them_only_on_a_terminal_state(wf, t):
    decision = fire(wf.case_type, t.name)
    assert [d.kind for d in decision.new_deadlines] == [r.kind for r in t.starts]
    assert decision.cancel_open_deadlines is wf.state(t.target).terminal
    source = wf.state(t.sources[0]) if t.sources else None
    assert decision.pause_deadlines is (wf.state(t.target).suspended and not (source and source.suspended))


def test_suspending_a_patto_pauses_its_deadlines_and_starts_the_suspension_limit():
    decision = fire("patto", "sospendi")
    assert decision.pause_deadlines is True
    assert decision.resume_shift_days is None
    assert _deadlines(decision)["sospensione"].due == date(2027, 1, 19)


def test_resuming_a_patto_shifts_its_deadlines_by_the_days_spent_suspended():
    decision = fire("patto", "riprendi", case_fields={"state_since": datetime(2026, 10, 1, 9, 0, tzinfo=ROME)})
    assert decision.resume_shift_days == 50
    assert decision.pause_deadlines is False
    assert decision.met == ("sospensione",)


def test_the_days_suspended_are_counted_in_the_effective_date_time_zone():
    # 31/10 23:30 UTC is already 1/11 in Rome: 19 days to 20/11, not 20
    since = datetime(2026, 10, 31, 23, 30, tzinfo=timezone.utc)
    assert fire("patto", "riprendi", case_fields={"state_since": since}).resume_shift_days == 19


def test_interrupting_a_suspended_patto_cancels_its_deadlines():
    decision = fire("patto", "interrompi", state="SUSPENDED")
    assert decision.cancel_open_deadlines is True
    assert decision.resume_shift_days == 10
    assert decision.met == ("sospensione",)


def test_a_step_that_does_not_leave_a_suspension_shifts_nothing():
    assert fire("patto", "registra_monitoraggio").resume_shift_days is None


# --- the outcome --------------------------------------------------------------------------------


@pytest.mark.parametrize(("shares", "rate", "outcome"), [
    (["1", "0.5"], 0.75, Outcome.POSITIVE),
    (["0.7", "0.7"], 0.7, Outcome.POSITIVE),
    (["0.5", "0.5"], 0.5, Outcome.PARTIAL),
    (["0.3", "0.3"], 0.3, Outcome.PARTIAL),
    (["0.2", "0.2"], 0.2, Outcome.NEGATIVE),
    (["0", "0"], 0.0, Outcome.NEGATIVE),
])
def test_the_patto_outcome_is_suggested_from_the_realisation_rate(shares, rate, outcome):
    decision = fire("patto", "chiudi", patch={"raggiungimento": shares})
    assert decision.outcome is outcome
    assert decision.outcome_reason is None
    assert decision.data["tasso_realizzazione"] == rate
    assert decision.case_data["tasso_realizzazione"] == rate


def test_the_realisation_rate_is_weighted_by_the_objectives_weights():
    objectives = copy.deepcopy(case_data("patto")["obiettivi"])
    objectives[0]["peso"], objectives[1]["peso"] = "3", "1"
    decision = fire("patto", "chiudi", case_patch={"obiettivi": objectives}, patch={"raggiungimento": ["1", "0"]})
    assert decision.data["tasso_realizzazione"] == 0.75
    assert decision.outcome is Outcome.POSITIVE


def test_overriding_the_suggested_outcome_without_a_reason_is_refused():
    with pytest.raises(GuardRefused) as refused:
        fire("patto", "chiudi", patch={"esito": "negativo"})
    assert refused.value.reasons == [
        "l'esito «negativo» differisce da quello suggerito «positivo»: indicare il motivo"
    ]


def test_overriding_the_suggested_outcome_with_a_reason_is_accepted():
    why = "il beneficiario ha abbandonato la ricerca di lavoro"
    decision = fire("patto", "chiudi", patch={"esito": "negativo", "motivo_esito": why})
    assert decision.outcome is Outcome.NEGATIVE
    assert decision.outcome_reason == why
    assert decision.data["tasso_realizzazione"] == 0.75


def test_confirming_the_suggested_outcome_needs_no_reason():
    assert fire("patto", "chiudi", patch={"esito": "positivo"}).outcome is Outcome.POSITIVE


def test_an_outcome_override_and_a_guard_are_refused_together():
    with pytest.raises(GuardRefused) as refused:
        fire("patto", "chiudi", patch={"raggiungimento": ["1", "1", "1"], "esito": "negativo"})
    assert len(refused.value.reasons) == 2


@pytest.mark.parametrize(("reached", "outcome"), [(2, Outcome.POSITIVE), (1, Outcome.PARTIAL), (0, Outcome.NEGATIVE)])
def test_the_sad_outcome_follows_the_share_of_pai_objectives_reached(reached, outcome):
    decision = fire("sad_caso", "chiudi", patch={"obiettivi_raggiunti": reached})
    assert decision.outcome is outcome
    assert decision.data["quota_obiettivi"] == reached / 2


@pytest.mark.parametrize(("respected", "months", "outcome"), [
    (True, 12, Outcome.POSITIVE), (False, 3, Outcome.PARTIAL), (False, 0, Outcome.NEGATIVE),
])
def test_the_fna_outcome_follows_the_plan_and_the_months_paid(respected, months, outcome):
    decision = fire("fna_domanda", "chiudi", patch={"piano_rispettato": respected, "mesi_erogati": months})
    assert decision.outcome is outcome
    assert set(decision.data) == {"mesi_erogati", "importo_erogato", "piano_rispettato", "esito"}
    assert decision.data["esito"] == outcome.value  # the history carries the outcome for the tallies


def test_transitions_that_do_not_close_set_no_outcome():
    decision = fire("patto", "avvia_verifica")
    assert (decision.outcome, decision.outcome_reason) == (None, None)
    assert "tasso_realizzazione" not in decision.case_data


# --- kind, owner, provider, person, data --------------------------------------------------------


def test_the_kind_chosen_at_drafting_is_the_decision_kind():
    assert fire("patto", "avvia_redazione", patch={"tipologia": "autonomia"}).kind == "autonomia"


def test_a_patto_opens_without_a_kind_and_other_steps_do_not_change_it():
    assert fire("patto", "segnala").kind is None
    assert fire("patto", "attiva").kind is None


def test_the_assignee_becomes_the_owner():
    def add_worker(world):
        world.users["as.rossi"] = UserView("as.rossi", R.SOCIAL_WORKER, "Crema")

    decision = fire("patto", "assegna", patch={"assegnatario": "as.rossi"}, setup=add_worker)
    assert decision.owner == "as.rossi"


def test_the_worker_who_refers_a_sad_case_owns_it():
    decision = fire("sad_caso", "segnala", by=replace(ACTORS[R.SOCIAL_WORKER], username="as.ferrari"))
    assert decision.owner == "as.ferrari"


def test_steps_that_do_not_assign_leave_the_owner_alone():
    assert fire("patto", "attiva").owner is None


def test_choosing_and_changing_provider_are_reported_in_the_decision():
    assert fire("sad_caso", "scegli_ente").provider_codice == "ENTE01"
    assert fire("sad_caso", "cambia_ente").provider_codice == "ENTE02"
    assert fire("sad_caso", "emetti_voucher").provider_codice is None


def test_the_person_is_taken_out_of_the_case_data_at_opening():
    decision = fire("patto", "segnala")
    assert decision.person == PERSON
    assert "persona" not in decision.data and "persona" not in decision.case_data
    assert decision.case_data == {"fonte": "caritas", "bisogno": "economico"}


def test_a_step_merges_its_data_into_the_case_data():
    decision = fire("patto", "assegna")
    assert decision.data == {"assegnatario": "as.bianchi", "primo_colloquio_il": "2026-11-18"}
    assert decision.case_data == {**case_data("patto"), **decision.data}


def test_a_repeated_record_is_kept_in_the_step_but_not_merged_into_the_case():
    decision = fire("patto", "registra_monitoraggio")
    assert decision.data["incontro_il"] == "2026-11-19"
    assert decision.case_data == case_data("patto")


def test_decide_changes_neither_the_case_nor_the_payload_nor_the_world():
    case = case_in("patto", "ACTIVE")
    before_case, before_payload = copy.deepcopy(dict(case.data)), copy.deepcopy(VALID["patto"]["attiva"])
    world = district_world()
    before_world = copy.deepcopy(world)
    fire("patto", "registra_monitoraggio", case=case, world=world)
    assert dict(case.data) == before_case
    assert VALID["patto"]["attiva"] == before_payload
    assert world == before_world


def test_allowed_transitions_lists_the_buttons_of_a_role_in_a_state():
    wf = get_workflow("patto")
    names = {t.name for t in allowed_transitions(wf, "ACTIVE", R.SOCIAL_WORKER)}
    assert names == {"registra_monitoraggio", "aggiorna_isee", "sospendi", "rinuncia", "avvia_verifica"}
    assert [t.name for t in allowed_transitions(wf, None)] == ["segnala"]
    assert allowed_transitions(wf, "CLOSED") == []
