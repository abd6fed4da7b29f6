"""Bonus Famiglia (DOMAIN.md §12) through the pure engine: the pregnancy and the adoption paths, every guard's
Italian refusal (proved to be that guard's), the deadline dates and the amounts, twins included."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.casetypes.bonus_famiglia.workflow import granted_amount, instalments
from domain.engine import CaseView, Command, Decision, allowed_transitions, decide
from domain.errors import GuardRefused, InvalidData, TransitionNotAllowed
from domain.fields import FieldClass
from domain.registry import get_case_type, get_workflow
from domain.workflow import Role
from tests.unit.test_engine_guards import Refusal, without_guard
from tests.unit.test_engine_guards import _reasons as reasons_of
from tests.unit.fakes import (
    CALENDAR, CREMA, MOTHER, PERSON, POLICY, ROME, VALID, actor, case_data, case_in, district_world, fire, isee,
)

R = Role
T = "bonus_famiglia"
WF = get_workflow(T)
FUTURE = "2026-11-21"  # the day after fakes.NOW


def _refusal(transition: str, guard: str, expect: str, how: str, **kwargs: Any) -> Refusal:
    return Refusal(T, transition, guard, expect, how, kwargs)


def _future(transition: str, field: str, label: str) -> Refusal:
    return _refusal(transition, f"{label} non successiva alla data del passo",
                    f"«{label}» (21/11/2026) è successiva alla data del passo", f"{field} futura",
                    patch={field: FUTURE})


ASSIGNEE = "assegnatario: assistente sociale del sub-ambito del caso"
NO_BIRTH = {k: v for k, v in case_data(T).items() if k not in ("nato_il", "nati")}

REFUSALS = [
    _refusal("presenta_domanda", "nessuna misura incompatibile tra i casi della persona in Legami",
             "misura comunale o nazionale di sostegno alla natalità", "un bonus nascita comunale registrato in Legami",
             setup=lambda w: w.cases.__setitem__(4250, case_in("misura_esterna", "ACTIVE", id=4250,
                                                                data={"misura": "bonus_nascita_comunale"}))),
    _refusal("richiedi_colloquio", ASSIGNEE, "«as.pandino» non opera nel sub-ambito Crema", "altro sub-ambito",
             patch={"assegnatario": "as.pandino"}),
    _refusal("richiedi_colloquio", "gravidanza: richiede la madre",
             "per una gravidanza la richiedente è la madre: il codice fiscale indicato è di un uomo", "un uomo",
             patch={"persona": PERSON}),
    _future("richiedi_colloquio", "richiesto_il", "Data della richiesta"),
    _future("rilascia_scheda", "scheda_rilasciata_il", "Data di rilascio della scheda"),
    _future("nega_scheda", "colloquio_il", "Data del colloquio"),
    _refusal("presenta_domanda", "scheda di vulnerabilità per la gravidanza",
             "per una gravidanza serve la scheda di vulnerabilità rilasciata dal servizio sociale", "senza scheda",
             state="INTERVIEW_REQUESTED", case_patch={}),
    _refusal("presenta_domanda", "ISEE ordinario o corrente", "serve un ISEE ordinario o corrente",
             "ISEE sociosanitario", patch={"isee": isee("sociosanitario", "15000.00")}),
    _refusal("presenta_domanda", "ISEE entro la soglia", "ISEE di € 22.000,01 oltre la soglia di € 22.000,00",
             "ISEE oltre la soglia", patch={"isee": isee("ordinario", "22000.01")}),
    _refusal("presenta_domanda", "ISEE in corso di validità", "l'attestazione ISEE è scaduta il 31/12/2025",
             "ISEE scaduto", patch={"isee": isee("ordinario", "15000.00", dsu="2025-06-01")}),
    _refusal("presenta_domanda", "residenza in Lombardia",
             "entrambi i genitori devono risiedere in Lombardia da almeno 5 anni continuativi",
             "altro genitore da 4 anni", patch={"anni_residenza_altro_genitore": 4}),
    _refusal("presenta_domanda", "nessuna misura alternativa",
             "misura alternativa di sostegno alla natalità già percepita: bonus bebè comunale", "misura alternativa",
             patch={"misure_alternative": ["bonus bebè comunale"]}),
    _future("presenta_domanda", "presentata_il", "Data di presentazione"),
    _refusal("ammetti", "importo per figlio secondo la politica",
             "importo concesso € 1.400,00 diverso da € 1.500,00 (€ 1.500,00 per 1 figlio)", "importo errato",
             patch={"importo_concesso": "1400.00"}),
    _future("ammetti", "esito_comunicato_il", "Data della comunicazione"),
    _future("non_ammette", "esito_comunicato_il", "Data della comunicazione"),
    _refusal("eroga_prima_rata", "importo della prima rata pari a quello dovuto",
             "importo della prima rata € 700,00 diverso da quello dovuto (€ 750,00)", "importo errato",
             patch={"importo": "700.00"}),
    _future("eroga_prima_rata", "pagato_il", "Data del pagamento"),
    _refusal("eroga_contributo", "importo del contributo pari a quello dovuto",
             "importo del contributo € 750,00 diverso da quello dovuto (€ 1.500,00)", "metà importo",
             patch={"importo": "750.00"}),
    _future("eroga_contributo", "pagato_il", "Data del pagamento"),
    _future("registra_nascita", "nato_il", "Data di nascita"),
    _refusal("registra_nascita", "nascita dopo la richiesta",
             "la data di nascita (01/11/2026) precede la richiesta di colloquio", "nascita prima della richiesta",
             patch={"nato_il": "2026-11-01"}),
    _refusal("presenta_tessera", "nascita registrata", "registrare prima la nascita", "nascita non registrata",
             case=case_in(T, "FIRST_PAID", NO_BIRTH)),
    _future("presenta_tessera", "tessera_presentata_il", "Data di presentazione della tessera"),
    _refusal("eroga_seconda_rata", "importo della seconda rata pari a quello dovuto",
             "importo della seconda rata € 1.500,00 diverso da quello dovuto (€ 750,00)", "importo intero",
             patch={"importo": "1500.00"}),
    _future("eroga_seconda_rata", "pagato_il", "Data del pagamento"),
    _future("registra_monitoraggio", "compilata_il", "Data della scheda"),
]


@pytest.mark.parametrize("refusal", [pytest.param(r, id=f"{r.transition}-{r.how}") for r in REFUSALS])
def test_each_bonus_famiglia_guard_refuses_with_its_italian_reason(refusal):
    with pytest.raises(GuardRefused) as refused:
        fire(T, refusal.transition, **refusal.kwargs)
    matching = [r for r in refused.value.reasons if refusal.expect in r]
    assert matching, refused.value.reasons

    wf = without_guard(WF, refusal.transition, refusal.guard)  # the reason was this guard's
    assert len([r for r in reasons_of(refusal, wf) if refusal.expect in r]) == len(matching) - 1


def test_the_steps_of_one_kind_are_neither_offered_nor_accepted_for_the_other():
    """Instalments, birth and tessera are for a pregnancy, the single payment for an adoption: declared with the
    transitions (`for_kinds`), so the action lists offer only the case's own steps and the engine refuses the
    other's, in Italian."""
    offered = {k: {t.name for t in allowed_transitions(WF, "ADMITTED", Role.CSC_ADMIN, k)}
               for k in ("gravidanza", "adozione")}
    assert offered == {"gravidanza": {"eroga_prima_rata"}, "adozione": {"eroga_contributo"}}
    with pytest.raises(TransitionNotAllowed, match="«Contributo erogato .*» è previsto solo per la tipologia: adozione"):
        decide(WF, case_in(T, "ADMITTED", kind="gravidanza"),
               Command("eroga_contributo", actor(Role.CSC_ADMIN), at("2026-06-01"),
                       {"pagato_il": "01/06/2026", "importo": "1500"}),
               policy=POLICY, calendar=CALENDAR, world=district_world(), now=at("2026-11-20", 12))
    with pytest.raises(TransitionNotAllowed, match="previsto solo per la tipologia: gravidanza"):
        decide(WF, case_in(T, "ADMITTED", kind="adozione"),
               Command("eroga_prima_rata", actor(Role.CSC_ADMIN), at("2026-06-01"),
                       {"pagato_il": "01/06/2026", "importo": "750"}),
               policy=POLICY, calendar=CALENDAR, world=district_world(), now=at("2026-11-20", 12))


# --- the two paths ------------------------------------------------------------------------------


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=ROME)


def walk(steps: list[tuple[str, Role, dict[str, Any], str]], **opening: Any) -> tuple[CaseView, list[Decision]]:
    """Fire `steps` (transition, role, data, effective day) from nothing, as the service would persist them."""
    world, view, decisions = district_world(), None, []
    for name, role, data, day in steps:
        cmd = Command(name, actor(role), at(day), data, reason="motivo" if WF.transition(name).requires_reason
                      else None, comune_istat=CREMA if view is None else None)
        d = decide(WF, view, cmd, policy=POLICY, calendar=CALENDAR, world=world, now=at("2026-11-20", 12))
        decisions.append(d)
        if view is None:
            view = case_in(T, d.to_state, d.case_data, kind=d.kind, owner=d.owner, person=d.person,
                           opened_on=date.fromisoformat(day), state_since=at(day), version=1)
        else:
            view = replace(view, state=d.to_state, data=d.case_data, state_since=at(day), version=view.version + 1)
    return view, decisions


def request(evento: str = "gravidanza", figli: int = 1, **changes: Any) -> dict[str, Any]:
    data = {**VALID[T]["richiedi_colloquio"], "evento": evento, "figli": figli, "richiesto_il": "2026-06-03",
            **changes}
    if evento == "adozione":
        data.pop("data_presunta_parto")
    return data


SHEET = {**VALID[T]["rilascia_scheda"], "colloquio_il": "2026-06-10", "scheda_rilasciata_il": "2026-06-10"}
APPLICATION = {**VALID[T]["presenta_domanda"], "presentata_il": "2026-06-15"}


def paid(amount: str, day: str) -> dict[str, str]:
    return {"pagato_il": day, "importo": amount}


def test_a_pregnancy_goes_from_the_interview_to_closure_in_two_equal_instalments():
    view, ds = walk([
        ("richiedi_colloquio", R.CSC_ADMIN, request(), "2026-06-03"),
        ("rilascia_scheda", R.SOCIAL_WORKER, SHEET, "2026-06-10"),
        ("presenta_domanda", R.SOCIAL_WORKER, APPLICATION, "2026-06-15"),
        ("ammetti", R.CSC_ADMIN, {"esito_comunicato_il": "2026-07-20", "importo_concesso": "1500"}, "2026-07-20"),
        ("eroga_prima_rata", R.CSC_ADMIN, paid("750", "2026-08-05"), "2026-08-05"),
        ("registra_nascita", R.SOCIAL_WORKER, {"nato_il": "2026-10-02", "nati": 1}, "2026-10-05"),
        ("presenta_tessera", R.CSC_ADMIN, {"tessera_presentata_il": "2026-10-20"}, "2026-10-20"),
        ("eroga_seconda_rata", R.CSC_ADMIN, paid("750", "2026-11-03"), "2026-11-03"),
        ("registra_monitoraggio", R.SOCIAL_WORKER, VALID[T]["registra_monitoraggio"], "2026-11-19"),
        ("chiudi", R.SOCIAL_WORKER, VALID[T]["chiudi"], "2026-11-20"),
    ])
    assert [d.to_state for d in ds] == [
        "INTERVIEW_REQUESTED", "SHEET_ISSUED", "SUBMITTED", "ADMITTED", "FIRST_PAID", "FIRST_PAID", "HEALTH_CARD",
        "MONITORING", "MONITORING", "CLOSED"]
    assert ds[0].kind == "gravidanza" and ds[0].owner == "as.bianchi"  # CSC records, the comune's worker owns
    assert ds[0].person["codice_fiscale"] == MOTHER["codice_fiscale"]
    assert sum(Decimal(d.data["importo"]) for d in ds if "importo" in d.data) == Decimal("1500")
    assert "importo" not in view.data  # payments are records of their own, not merged into the case
    assert ds[-1].cancel_open_deadlines


def test_an_adoption_applies_without_the_sheet_and_is_paid_once_then_monitored():
    view, ds = walk([
        ("richiedi_colloquio", R.SOCIAL_WORKER, request("adozione"), "2026-06-03"),
        ("presenta_domanda", R.SOCIAL_WORKER, APPLICATION, "2026-06-15"),
        ("ammetti", R.CSC_ADMIN, {"esito_comunicato_il": "2026-07-20", "importo_concesso": "1500"}, "2026-07-20"),
        ("eroga_contributo", R.CSC_ADMIN, paid("1500", "2026-08-05"), "2026-08-05"),
        ("registra_monitoraggio", R.SOCIAL_WORKER, VALID[T]["registra_monitoraggio"], "2026-11-19"),
    ])
    assert [d.to_state for d in ds] == ["INTERVIEW_REQUESTED", "SUBMITTED", "ADMITTED", "MONITORING", "MONITORING"]
    assert "scheda_vulnerabilita" in ds[1].met
    assert [n.kind for n in ds[3].new_deadlines] == ["monitoraggio"]


def test_a_sheet_not_issued_ends_the_case_with_the_reason_recorded():
    _, ds = walk([
        ("richiedi_colloquio", R.SOCIAL_WORKER, request(), "2026-06-03"),
        ("nega_scheda", R.SOCIAL_WORKER, VALID[T]["nega_scheda"], "2026-11-19"),
    ])
    assert ds[-1].to_state == "SHEET_NOT_ISSUED" and WF.state("SHEET_NOT_ISSUED").terminal
    assert ds[-1].data["motivo_mancato_rilascio"] == "nessuna vulnerabilità rilevata"


def test_the_request_refuses_a_pregnancy_without_the_expected_date_and_an_adoption_with_one():
    with pytest.raises(InvalidData, match="per una gravidanza indicare la data presunta del parto"):
        fire(T, "richiedi_colloquio", payload={**request(), "data_presunta_parto": None})
    with pytest.raises(InvalidData, match="la data presunta del parto non si indica per un'adozione"):
        fire(T, "richiedi_colloquio", payload={**request("adozione"), "data_presunta_parto": "2027-01-10"})


def test_the_request_refuses_an_invalid_codice_fiscale_naming_the_field():
    bad = {**MOTHER, "codice_fiscale": MOTHER["codice_fiscale"][:15] + "Z"}
    with pytest.raises(InvalidData, match="carattere di controllo errato"):
        fire(T, "richiedi_colloquio", patch={"persona": bad})


# --- deadlines ----------------------------------------------------------------------------------


def test_the_sheet_is_due_ten_working_days_after_the_request():
    d = fire(T, "richiedi_colloquio")  # requested Wednesday 18/11/2026
    assert [(n.kind, n.due, n.basis) for n in d.new_deadlines] == [
        ("scheda_vulnerabilita", date(2026, 12, 2), "working")]


def test_the_tessera_sanitaria_is_due_ninety_days_after_the_birth_not_after_the_step():
    d = fire(T, "registra_nascita", patch={"nato_il": "2026-11-19"})
    assert [(n.kind, n.due, n.basis) for n in d.new_deadlines] == [
        ("tessera_sanitaria", date(2027, 2, 17), "calendar")]
    assert fire(T, "presenta_tessera").met == ("tessera_sanitaria",)


def test_the_deadline_terms_are_policy_values():
    assert POLICY.get("bonus_famiglia.giorni_scheda") == 10
    assert POLICY.get("bonus_famiglia.giorni_tessera_sanitaria") == 90


# --- amounts ------------------------------------------------------------------------------------


def test_twins_double_the_amount_and_each_instalment():
    assert granted_amount(2, POLICY) == Decimal("3000.00")
    assert instalments(Decimal("3000.00"), pregnancy=True) == (Decimal("1500.00"), Decimal("1500.00"))
    twins = {"figli": 2}
    assert fire(T, "ammetti", case_patch=twins, patch={"importo_concesso": "3000.00"}).to_state == "ADMITTED"
    with pytest.raises(GuardRefused, match=r"€ 1.500,00 diverso da € 3.000,00 \(€ 1.500,00 per 2 figli\)"):
        fire(T, "ammetti", case_patch=twins)
    granted = {**twins, "importo_concesso": "3000.00"}
    assert fire(T, "eroga_prima_rata", case_patch=granted, patch={"importo": "1500.00"}).to_state == "FIRST_PAID"
    assert fire(T, "eroga_seconda_rata", case_patch=granted, patch={"importo": "1500.00"}).to_state == "MONITORING"
    adoption = {**granted, "evento": "adozione"}
    assert fire(T, "eroga_contributo", case_patch=adoption, patch={"importo": "3000.00"}).to_state == "MONITORING"


def test_an_odd_cent_goes_to_the_second_instalment_and_an_adoption_is_paid_whole():
    assert instalments(Decimal("1500.01"), pregnancy=True) == (Decimal("750.01"), Decimal("750.00"))
    assert instalments(Decimal("1500.00"), pregnancy=False) == (Decimal("1500.00"),)


def test_the_other_side_of_the_requirements_is_admitted():
    at_cap = {"isee": isee("corrente", "22000.00")}
    assert fire(T, "presenta_domanda", patch=at_cap).to_state == "SUBMITTED"
    single_parent = {**VALID[T]["presenta_domanda"], "anni_residenza_altro_genitore": None}
    assert fire(T, "presenta_domanda", payload=single_parent).to_state == "SUBMITTED"


# --- what the type declares besides its workflow --------------------------------------------------


def test_the_expected_delivery_date_is_health_data_and_the_interview_notes_social():
    fields = get_case_type(T).field_map
    assert fields.of("data_presunta_parto") is FieldClass.HEALTH
    assert fields.of("note_colloquio") is FieldClass.SOCIAL
    assert fields.of("importo") is FieldClass.ADMINISTRATIVE
    assert fields.of("persona") is FieldClass.IDENTITY


def test_its_indicators_are_in_their_own_group_with_a_target():
    from config.tally_files import load_tally_settings

    ct = get_case_type(T)
    assert (ct.group.code, ct.group.label) == ("bonus", "Bonus Famiglia")
    codes = {m.code for m in ct.measures}
    assert {"bonus_schede_rilasciate", "bonus_famiglie_sostenute", "bonus_euro_erogati"} <= codes
    assert {"bonus_schede_rilasciate", "bonus_famiglie_sostenute", "bonus_euro_erogati"} <= set(
        load_tally_settings().targets_for(2026))
