"""A case type's pieces are bound by keys (transitions, templates, groups, deadline kinds, field classes):
each broken key is refused when the case type is built, with a message naming the type and the key."""
from __future__ import annotations

import pytest
from pydantic import Field

from domain.casetype import Audience, CaseType, DeclarationError, IndicatorGroup, ReminderRouting
from domain.casetypes.sad import TEMPLATES as SAD_TEMPLATES
from domain.common import Form, Persona
from domain.events import Notify, Recipient
from domain.fields import FieldClass
from domain.indicators import Agg, Interval, Measure, Ratio
from domain.registry import all_case_types, register, unregister
from domain.workflow import Basis, DeadlineRule, Role, Source, State, Transition, Workflow

H, A = FieldClass.HEALTH, FieldClass.ADMINISTRATIVE
GROUP = IndicatorGroup("prova", "Misura di prova")


class Apertura(Form):
    persona: Persona = Field(title="Persona")
    punteggio_adl: int = Field(title="ADL", ge=0, le=6)
    importo: int = Field(title="Importo", ge=0)


WF = Workflow(
    case_type="prova",
    label="Misura di prova",
    states=(State("OPEN", "Aperta"), State("DONE", "Chiusa", terminal=True)),
    transitions=(
        Transition("apri", "Apertura", (), "OPEN", frozenset({Role.SOCIAL_WORKER}), data=Apertura,
                   starts=(DeadlineRule("chiusura", "Chiusura", 30, Basis.CALENDAR, Source.CONFIGURED,
                                        met_by=("chiudi",)),)),
        Transition("chiudi", "Chiusura", ("OPEN",), "DONE", frozenset({Role.SOCIAL_WORKER})),
    ),
)
FIELDS = {"punteggio_adl": H, "importo": A}


def build(**overrides) -> CaseType:
    return CaseType(**{"workflow": WF, "group": GROUP, "fields": FIELDS, **overrides})


def refused(match: str, **overrides) -> None:
    with pytest.raises(DeclarationError, match=match) as err:
        build(**overrides)
    assert "«prova»" in str(err.value)


def test_a_well_formed_case_type_is_accepted():
    ct = build(measures=(Measure("prova_aperte", "Aperte", "prova", "prova", ("apri",)),),
               notifications=(Notify("apri", "sad_invito_adesione", Recipient.PROVIDER),), templates=SAD_TEMPLATES)
    assert ct.field_map.of("punteggio_adl") is H


def test_a_field_without_a_class_is_refused():
    refused(r"campi senza classe di dato: punteggio_adl", fields={"importo": A})


def test_a_class_for_a_field_that_does_not_exist_is_refused():
    refused(r"campo inesistente: puntegio_adl", fields={**FIELDS, "puntegio_adl": H})


def test_a_notification_on_an_unknown_transition_is_refused():
    refused(r"notifica su transizione inesistente: aprii",
            notifications=(Notify("aprii", "caso_assegnato", Recipient.NEW_OWNER),))


def test_a_notification_whose_template_is_missing_is_refused():
    refused(r"modello di e-mail mancante: prova_aperta",
            notifications=(Notify("apri", "prova_aperta", Recipient.NEW_OWNER),))


def test_an_indicator_on_an_unknown_transition_is_refused():
    refused(r"indicatore prova_x: transizione inesistente chiusa",
            measures=(Measure("prova_x", "X", "prova", "prova", ("chiusa",)),))


def test_an_indicator_of_another_group_is_refused():
    refused(r"indicatore prova_x: gruppo patti diverso da prova",
            measures=(Measure("prova_x", "X", "patti", "prova", ("apri",)),))


def test_an_indicator_summing_an_unknown_field_is_refused():
    refused(r"indicatore prova_x: campo inesistente importi",
            measures=(Measure("prova_x", "X", "prova", "prova", ("apri",), Agg.SUM, ("importi",)),))


def test_an_interval_on_an_unknown_transition_is_refused():
    refused(r"intervallo prova_i: transizione inesistente chiusa",
            intervals=(Interval("prova_i", "I", "prova", "prova", ("apri",), ("chiusa",)),))


def test_reminders_for_an_unknown_deadline_kind_are_refused():
    refused(r"promemoria per scadenza inesistente: chiusure",
            reminders=ReminderRouting(by_deadline={"chiusure": ("owner",)}))


def test_reminders_to_an_unknown_recipient_are_refused():
    refused(r"destinatario sconosciuto: coordinatore",
            reminders=ReminderRouting(without_owner=("coordinatore",)))


def test_an_assessor_state_that_does_not_exist_is_refused():
    refused(r"stato inesistente: ASSESSMENT",
            audience=Audience(read_by=frozenset({Role.HEALTH_ASSESSOR}), assessor_states=frozenset({"ASSESSMENT"})))


def test_a_ratio_over_an_unknown_measure_is_refused_when_registered():
    ct = build(ratios=(Ratio("prova_r", "R", "prova", "prova_aperte", "prova_nessuna"),),
               measures=(Measure("prova_aperte", "Aperte", "prova", "prova", ("apri",)),))
    with pytest.raises(DeclarationError, match=r"«prova»: rapporto prova_r su indicatore inesistente prova_nessuna"):
        register(ct)
    unregister("prova")


def test_an_indicator_code_used_by_another_type_is_refused_when_registered():
    ct = build(measures=(Measure("patti_attivati", "Aperte", "prova", "prova", ("apri",)),))
    with pytest.raises(DeclarationError, match=r"codice di indicatore patti_attivati già usato da «patto»"):
        register(ct)
    unregister("prova")


def test_every_built_in_case_type_names_its_group_and_its_templates_exist():
    for ct in all_case_types():
        assert ct.group.code and ct.group.label
        for n in ct.notifications:
            assert ct.template_path(n.template) is not None
