"""Data validation at the engine's door: InvalidData naming each field by its Italian label."""
import pytest

from domain.errors import InvalidData
from domain.registry import all_workflows
from tests.unit.fakes import OUTSIDE, VALID, fire


def _errors(case_type, transition, **kwargs):
    with pytest.raises(InvalidData) as invalid:
        fire(case_type, transition, **kwargs)
    return invalid.value


def test_patto_with_a_negative_amount_names_the_amount_field():
    invalid = _errors("patto", "attiva", patch={"misura_economica": {"importo": "-5"}})
    assert [(e.field, e.label) for e in invalid.errors] == [
        ("misura_economica.importo", "Misura economica › Importo per erogazione (€)")
    ]
    assert "«Misura economica › Importo per erogazione (€)»" in str(invalid)
    assert str(invalid).startswith("dati non validi: ")


def test_patto_with_a_non_numeric_amount_says_the_number_is_invalid():
    invalid = _errors("patto", "attiva", patch={"misura_economica": {"importo": "duecento"}})
    assert str(invalid.errors[0]) == "«Misura economica › Importo per erogazione (€)»: numero non valido"


def test_patto_cannot_start_without_a_signed_pact():
    payload = {k: v for k, v in VALID["patto"]["attiva"].items() if k != "firma_assistente_sociale"}
    invalid = _errors("patto", "attiva", payload=payload)
    assert [str(e) for e in invalid.errors] == ["«Firma dell'assistente sociale»: campo obbligatorio"]


def test_patto_without_objectives_is_refused():
    invalid = _errors("patto", "attiva", patch={"obiettivi": []})
    assert [str(e) for e in invalid.errors] == ["«Obiettivi»: serve almeno 1 elemento"]


def test_patto_ending_before_it_starts_is_refused_with_the_reason():
    invalid = _errors("patto", "attiva", patch={"data_inizio": "2026-10-31", "data_fine": "2026-10-01"})
    assert "la data di fine deve seguire la data di inizio" in str(invalid)


def test_patto_referral_with_a_bad_codice_fiscale_names_the_nested_field():
    invalid = _errors("patto", "segnala", patch={"persona": {"codice_fiscale": "RCCMNL83S18D967H"}})
    assert [str(e) for e in invalid.errors] == [
        "«Persona segnalata › Codice fiscale»: codice fiscale non valido: carattere di controllo errato"
    ]


def test_patto_referral_with_a_birth_date_not_matching_the_codice_fiscale_is_refused():
    invalid = _errors("patto", "segnala", patch={"persona": {"data_nascita": "1983-11-19"}})
    assert "non corrisponde al codice fiscale (18/11/1983)" in str(invalid)


def test_patto_referral_with_an_unknown_source_lists_the_choices():
    invalid = _errors("patto", "segnala", patch={"fonte": "parrocchia"})
    assert [str(e) for e in invalid.errors] == [
        "«Fonte della segnalazione»: valore non ammesso: scegliere tra spontanea, caritas, comune, "
        "centro_impiego, terzo_settore"
    ]


def test_italian_dates_are_accepted_and_stored_as_iso():
    decision = fire("patto", "assegna", patch={"primo_colloquio_il": "18/11/2026"})
    assert decision.data["primo_colloquio_il"] == "2026-11-18"


def test_fna_application_with_a_wrong_iban_names_the_iban():
    invalid = _errors("fna_domanda", "presenta", patch={"iban": "IT60X0542811101000000123457"})
    assert [str(e) for e in invalid.errors] == ["«IBAN per l'accredito»: IBAN non valido: cifre di controllo errate"]


def test_fna_isee_protocol_of_another_year_is_refused():
    invalid = _errors("fna_domanda", "presenta", patch={"isee": {"protocollo": "INPS-ISEE-2025-ABC123456-01"}})
    assert "Attestazione ISEE › Protocollo DSU" in str(invalid)
    assert "non coincide con l'anno di presentazione della DSU (2026)" in str(invalid)


def test_fna_personal_assistant_plan_needs_the_contract():
    invalid = _errors("fna_domanda", "firma_piano", patch={"misura": "assistente_personale"})
    assert "la misura assistente personale richiede il contratto di lavoro" in str(invalid)


def test_sad_visit_outside_the_month_of_the_log_is_refused():
    invalid = _errors("sad_caso", "registra_visite", patch={"mese": "2026-10-01"})
    assert "visite fuori dal mese indicato: 19/11/2026" in str(invalid)


def test_sad_voucher_ending_before_it_starts_is_refused():
    invalid = _errors("sad_caso", "emetti_voucher", patch={"valido_al": "2026-11-30"})
    assert "la validità del voucher deve terminare dopo l'inizio" in str(invalid)


def test_several_errors_are_reported_together():
    invalid = _errors("patto", "avvia_redazione", patch={"componenti_nucleo": 0, "bisogni": ""})
    assert {e.label for e in invalid.errors} == {"Componenti del nucleo familiare", "Bisogni rilevati"}


# --- reasons ------------------------------------------------------------------------------------

REASONED = [
    pytest.param(wf.case_type, t.name, id=f"{wf.case_type}-{t.name}")
    for wf in all_workflows() for t in wf.transitions if t.requires_reason
]


@pytest.mark.parametrize(("case_type", "transition"), REASONED)
def test_a_transition_requiring_a_reason_is_refused_without_one(case_type, transition):
    for missing in (None, "", "   "):
        invalid = _errors(case_type, transition, reason=missing)
        assert ("motivo", "Motivo", "campo obbligatorio") in [(e.field, e.label, e.message) for e in invalid.errors]
        assert "«Motivo»: campo obbligatorio" in str(invalid)


def test_the_missing_reason_is_reported_with_the_data_errors():
    invalid = _errors("patto", "interrompi", reason=None, patch={"causa": "inadempienza"})
    assert [str(e) for e in invalid.errors] == [
        "«Motivo»: campo obbligatorio",
        "«Interruzione»: per inadempienza serve la data della diffida scritta",
    ]


def test_the_reason_is_kept_in_the_decision():
    decision = fire("patto", "archivia", reason="trasferito fuori ambito")
    assert decision.reason == "trasferito fuori ambito"


# --- unknown fields ------------------------------------------------------------------------------


def test_an_unknown_field_is_refused_not_dropped():
    invalid = _errors("patto", "assegna", patch={"priorita": "alta"})
    assert [(e.field, e.message) for e in invalid.errors] == [("priorita", "campo non previsto")]


def test_an_unknown_nested_field_is_refused_with_its_path():
    invalid = _errors("patto", "attiva", patch={"misura_economica": {"iban": "IT60X0542811101000000123456"}})
    assert [str(e) for e in invalid.errors] == ["«Misura economica › iban»: campo non previsto"]


def test_data_sent_to_a_transition_without_a_form_is_refused():
    invalid = _errors("patto", "riprendi", payload={"nota": "rientrato dal ricovero"})
    assert [str(e) for e in invalid.errors] == ["«nota»: campo non previsto"]


# --- opening: the comune -------------------------------------------------------------------------


def test_a_case_cannot_open_without_a_comune():
    invalid = _errors("patto", "segnala", comune_istat=None)
    assert [str(e) for e in invalid.errors] == ["«Comune»: campo obbligatorio"]


def test_a_case_cannot_open_in_a_comune_outside_the_district():
    invalid = _errors("sad_caso", "segnala", comune_istat=OUTSIDE)
    assert [str(e) for e in invalid.errors] == [f"«Comune»: il comune {OUTSIDE} non appartiene all'ambito"]


def test_a_district_level_case_opens_without_a_comune():
    decision = fire("fna_bando", "crea", comune_istat=None)
    assert decision.to_state == "DRAFT"
    assert decision.person is None


@pytest.mark.parametrize("case_type", ["patto", "sad_caso"])
def test_a_case_cannot_open_with_an_undeclared_kind(case_type):
    invalid = _errors(case_type, "segnala", kind="inventata")
    assert [e.label for e in invalid.errors] == ["Tipologia"]
