"""The pure access rules (domain/access.py): field classes, who reads what, who fires what."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.access import (
    ALL_CLASSES,
    AccessDenied,
    AccessPolicy,
    CaseRef,
    FieldClass,
    Principal,
    can_fire,
    can_read_case,
    field_class,
    field_classes,
    fire_refusal,
    is_minor,
    minor_birth_cutoff,
    read_refusal,
    unclassified_fields,
    visible_fields,
)
from domain.errors import DomainError
from domain.registry import all_workflows, get_workflow
from domain.workflow import Role

F = FieldClass
CREMA_AREA = frozenset({"019035", "019054", "019062", "019081"})  # the Crema sub-ambito
PANDINO_AREA = frozenset({"019002", "019041", "019066", "019067", "019084", "019102"})

USERS = {
    "as.rossi": Principal("as.rossi", Role.SOCIAL_WORKER, "Crema", comuni=CREMA_AREA),
    "as.bruni": Principal("as.bruni", Role.SOCIAL_WORKER, "Crema", comuni=CREMA_AREA),
    "as.verdi": Principal("as.verdi", Role.SOCIAL_WORKER, "Pandino", comuni=PANDINO_AREA),
    "coord.crema": Principal("coord.crema", Role.SUBAREA_COORDINATOR, "Crema", comuni=CREMA_AREA),
    "coord.pandino": Principal("coord.pandino", Role.SUBAREA_COORDINATOR, "Pandino", comuni=PANDINO_AREA),
    "csc": Principal("csc", Role.CSC_ADMIN),
    "udp": Principal("udp", Role.PLANNING_OFFICE),
    "ente01": Principal("ente01", Role.PROVIDER, provider_codice="ENTE01"),
    "ente02": Principal("ente02", Role.PROVIDER, provider_codice="ENTE02"),
    "ovd": Principal("ovd", Role.EVALUATOR),
    "asst": Principal("asst", Role.HEALTH_ASSESSOR),
    "benef": Principal("benef", Role.BENEFICIARY),
    "sistema": Principal("sistema", Role.SYSTEM),
}

CASES = {
    "patto_crema": CaseRef("patto", "019035", "Crema", "as.rossi", state="ACTIVE"),
    "patto_pandino": CaseRef("patto", "019067", "Pandino", "as.verdi", state="ACTIVE"),
    "sad_ente01": CaseRef("sad_caso", "019035", "Crema", "as.rossi", "ENTE01", state="VOUCHER_ISSUED"),
    "sad_ente02": CaseRef("sad_caso", "019035", "Crema", "as.bruni", "ENTE02", state="ACTIVE"),
    "fna": CaseRef("fna_domanda", "019035", "Crema", None, state="ASSESSMENT"),
    "bando": CaseRef("fna_bando", state="OPEN"),
    "adesione01": CaseRef("sad_adesione", provider_codice="ENTE01", state="ACTIVE"),
    "minore": CaseRef("patto", "019035", "Crema", "as.rossi", minor=True, state="ACTIVE"),
}

DISTRICT = {"bando", "adesione01"}
READS = {
    "as.rossi": {"patto_crema", "sad_ente01", "sad_ente02", "fna", "minore"} | DISTRICT,
    "as.bruni": {"patto_crema", "sad_ente01", "sad_ente02", "fna"} | DISTRICT,
    "as.verdi": {"patto_pandino"} | DISTRICT,
    "coord.crema": {"patto_crema", "sad_ente01", "sad_ente02", "fna", "minore"} | DISTRICT,
    "coord.pandino": {"patto_pandino"} | DISTRICT,
    "csc": set(CASES) - {"minore"},
    "udp": {"fna"} | DISTRICT,
    "ente01": {"sad_ente01", "adesione01"},
    "ente02": {"sad_ente02"},
    "ovd": set(),
    "asst": {"fna"} | DISTRICT,
    "benef": set(),
    "sistema": set(CASES),
}


def test_every_field_of_every_declaration_has_a_class():
    assert unclassified_fields(all_workflows()) == {}


def test_the_field_tables_name_only_fields_the_declarations_have():
    from domain.registry import all_case_types

    for ct in all_case_types():
        top = {k for k in ct.fields if "." not in k and "[]" not in k}
        assert top <= set(field_classes(ct.case_type)), ct.case_type


def test_types_in_the_declarations_decide_identity_and_administrative_fields():
    fna = field_classes("fna_domanda")
    assert fna["persona"] is F.IDENTITY
    assert fna["iban"] is F.ADMINISTRATIVE  # an Iban-typed field
    assert fna["isee"] is F.ADMINISTRATIVE  # an Isee attestation
    assert fna["importo_mensile_proposto"] is F.ADMINISTRATIVE  # an amount in euro
    assert field_classes("sad_caso")["isee_valore"] is F.ADMINISTRATIVE  # Optional[Euro]
    assert set(field_classes("fna_bando").values()) == {F.ADMINISTRATIVE}  # no person: no personal data


def test_adl_iadl_disability_and_attendance_allowance_are_health_data():
    health = {n for n, c in field_classes("fna_domanda").items() if c is F.HEALTH}
    assert health == {"invalidita_104_art3c3", "indennita_accompagnamento", "scala", "adl", "iadl"}
    assert {n for n, c in field_classes("sad_caso").items() if c is F.HEALTH} == {"adl", "iadl", "esito_revisione"}
    assert not any(c is F.HEALTH for c in field_classes("patto").values())


def test_the_same_name_can_be_social_in_a_patto_and_care_plan_in_a_sad_case():
    assert field_class("patto", "obiettivi") is F.SOCIAL
    assert field_class("sad_caso", "obiettivi") is F.CARE_PLAN


def test_a_key_no_declaration_knows_is_protected_like_health_data():
    assert field_class("patto", "diagnosi_libera") is F.HEALTH
    assert field_class("tipo_inesistente", "qualcosa") is F.HEALTH


def test_each_role_reads_exactly_the_cases_of_its_scope():
    actual = {u: {c for c, ref in CASES.items() if can_read_case(p, ref)} for u, p in USERS.items()}
    assert actual == READS


@pytest.mark.parametrize(("user", "case", "reason"), [
    ("as.verdi", "patto_crema", "il caso non appartiene ai comuni del suo sub-ambito"),
    ("coord.pandino", "patto_crema", "il caso non appartiene al suo sub-ambito"),
    ("ente02", "sad_ente01", "l'ente vede solo i casi SAD che lo hanno scelto"),
    ("ente01", "patto_crema", "l'ente vede solo i casi SAD che lo hanno scelto"),
    ("udp", "patto_crema", "l'Ufficio di Piano consulta singolarmente solo le domande FNA"),
    ("ovd", "fna", "l'Organismo di Valutazione consulta solo dati aggregati"),
    ("as.bruni", "minore", "caso di un minore: accesso riservato all'assistente sociale titolare"),
    ("csc", "minore", "caso di un minore"),
    ("benef", "patto_crema", "portale"),
])
def test_a_refused_read_says_why_in_italian(user, case, reason):
    assert reason in read_refusal(USERS[user], CASES[case])


def test_access_denied_is_a_domain_error_with_the_reason():
    err = AccessDenied("il caso non appartiene al suo sub-ambito")
    assert isinstance(err, DomainError)
    assert str(err) == "accesso negato: il caso non appartiene al suo sub-ambito"


def test_social_workers_see_health_data_only_on_their_own_cases():
    assert F.HEALTH in visible_fields(USERS["as.rossi"], CASES["sad_ente01"])
    assert visible_fields(USERS["as.bruni"], CASES["sad_ente01"]) == ALL_CLASSES - {F.HEALTH}
    assert F.HEALTH not in visible_fields(USERS["as.rossi"], CASES["fna"])  # nobody owns an application
    assert visible_fields(USERS["as.verdi"], CASES["sad_ente01"]) == frozenset()


def test_csc_never_sees_social_notes_or_health_and_providers_only_the_care_plan():
    for name, ref in CASES.items():
        if ref.case_type in ("patto", "sad_caso", "fna_domanda") and can_read_case(USERS["csc"], ref):
            assert visible_fields(USERS["csc"], ref) == {F.IDENTITY, F.ADMINISTRATIVE, F.CARE_PLAN}, name
    assert visible_fields(USERS["ente01"], CASES["sad_ente01"]) == {F.IDENTITY, F.CARE_PLAN}
    assert visible_fields(USERS["asst"], CASES["fna"]) == {F.IDENTITY, F.SOCIAL, F.HEALTH}
    assert visible_fields(USERS["udp"], CASES["fna"]) == ALL_CLASSES  # ranking: ISEE, severity, ADL
    assert visible_fields(USERS["coord.crema"], CASES["sad_ente02"]) == ALL_CLASSES
    assert visible_fields(USERS["ovd"], CASES["fna"]) == frozenset()


def _t(case_type: str, name: str):
    return get_workflow(case_type).transition(name)


@pytest.mark.parametrize(("user", "case", "transition", "allowed"), [
    ("as.rossi", "patto_crema", "registra_monitoraggio", True),
    ("as.bruni", "patto_crema", "registra_monitoraggio", False),  # assigned to a colleague
    ("as.verdi", "patto_crema", "registra_monitoraggio", False),  # another sub-ambito
    ("coord.crema", "patto_crema", "interrompi", True),
    ("coord.pandino", "patto_crema", "interrompi", False),
    ("coord.crema", "patto_crema", "registra_monitoraggio", False),  # not a coordinator's step
    ("ente01", "sad_ente01", "prima_visita", True),
    ("ente02", "sad_ente01", "prima_visita", False),
    ("csc", "sad_ente01", "emetti_voucher", True),
    ("udp", "fna", "preavviso_rigetto", True),
    ("udp", "patto_crema", "interrompi", False),
    ("as.rossi", "fna", "ammetti", True),  # unassigned: any worker of the comuni
    ("as.verdi", "fna", "ammetti", False),
    ("asst", "fna", "ammetti", True),
    ("udp", "bando", "pubblica_graduatoria_provvisoria", True),
    ("csc", "bando", "pubblica_graduatoria_provvisoria", False),
    ("ente01", "adesione01", "declina", True),
    ("ente02", "adesione01", "declina", False),
    ("ovd", "fna", "ammetti", False),
    ("sistema", "patto_crema", "avvia_verifica", True),
])
def test_firing_needs_the_role_in_the_declaration_and_the_scope(user, case, transition, allowed):
    ref = CASES[case]
    assert can_fire(USERS[user], ref, _t(ref.case_type, transition)) is allowed


def test_a_refused_transition_says_whether_the_role_or_the_scope_is_missing():
    patto = CASES["patto_crema"]
    assert fire_refusal(USERS["csc"], patto, _t("patto", "interrompi")).startswith(
        "il ruolo «amministrativo CSC» non può eseguire «Interruzione")
    assert fire_refusal(USERS["as.bruni"], patto, _t("patto", "sospendi")) == (
        "il caso è assegnato a «as.rossi»: può procedere solo l'assegnatario")
    assert fire_refusal(USERS["coord.pandino"], patto, _t("patto", "interrompi")) == (
        "il caso non appartiene al suo sub-ambito")


def test_opening_a_case_is_allowed_only_in_the_comuni_of_the_worker():
    segnala = _t("patto", "segnala")
    in_crema, in_pandino = CaseRef("patto", "019035", "Crema"), CaseRef("patto", "019067", "Pandino")
    assert can_fire(USERS["as.rossi"], in_crema, segnala)
    assert not can_fire(USERS["as.rossi"], in_pandino, segnala)
    assert can_fire(USERS["csc"], in_pandino, segnala)
    assert can_fire(USERS["udp"], CaseRef("fna_bando"), _t("fna_bando", "crea"))
    assert not can_fire(USERS["csc"], CaseRef("fna_bando"), _t("fna_bando", "crea"))


def test_the_minors_rule_and_the_owner_rule_are_configurable():
    relaxed = AccessPolicy(minors_visible_to=frozenset({Role.SUBAREA_COORDINATOR, Role.CSC_ADMIN}),
                           owner_only_fires=False)
    assert can_read_case(USERS["csc"], CASES["minore"], relaxed)
    assert not can_read_case(USERS["as.bruni"], CASES["minore"], relaxed)
    assert can_fire(USERS["as.bruni"], CASES["patto_crema"], _t("patto", "sospendi"), relaxed)


def test_a_health_assessor_reads_an_application_only_while_it_is_sent_for_assessment():
    assert can_read_case(USERS["asst"], CASES["fna"])
    assert not can_read_case(USERS["asst"], replace(CASES["fna"], state="FUNDED"))


def test_a_provider_without_a_code_reads_no_sad_case_with_no_provider():
    nobody = Principal("ente.x", Role.PROVIDER)
    assert not can_read_case(nobody, CaseRef("sad_caso", "019035", "Crema", "as.rossi", None, state="REFERRED"))


@pytest.mark.parametrize(("birth", "today", "minor"), [
    (date(2008, 11, 20), date(2026, 11, 20), False),  # 18 today
    (date(2008, 11, 21), date(2026, 11, 20), True),
    (date(2010, 2, 28), date(2028, 2, 29), False),
    (date(2010, 3, 1), date(2028, 2, 29), True),
    (None, date(2026, 11, 20), False),  # district-level records have no person
])
def test_a_minor_is_under_18_on_the_day_and_the_sql_cutoff_agrees(birth, today, minor):
    assert is_minor(birth, today) is minor
    if birth is not None:
        assert (birth > minor_birth_cutoff(today)) is minor


def test_the_read_gates_kept_per_role_are_those_computed_afresh_for_every_user_of_the_role():
    """read_gates is kept per (role, policy) for the registry's generation: a user's own keys (comuni, owner,
    provider) enter only when a gate is held against a case, so two users of one role share the gates."""
    from domain.access import DEFAULT_POLICY, AccessPolicy, _read_gates, read_gates
    from domain.conditions import Principal as P

    for role in Role:
        one, other = P("a", role, "Crema", "ENTE01", frozenset({"019035"})), P("b", role, "Lodi", None, frozenset())
        assert read_gates(one) == read_gates(other) == _read_gates(role, DEFAULT_POLICY)
    strict = AccessPolicy(minors_visible_to=frozenset())
    coordinator = P("c", Role.SUBAREA_COORDINATOR, "Crema")
    assert read_gates(coordinator, strict) == _read_gates(Role.SUBAREA_COORDINATOR, strict) != read_gates(coordinator)
