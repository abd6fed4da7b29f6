"""The SIUSS rules (domain/siuss.py), pure: what a case's steps make of its benefit, and what is sent for it."""
from __future__ import annotations

from datetime import date

import pytest

from domain import siuss as rules
from domain.casetypes.fna.siuss import SIUSS as FNA
from domain.casetypes.sad.siuss import SIUSS as SAD
from domain.errors import InvalidData

CODES = {"fna_b2": ("A1.11", "Assegnazioni economiche per la domiciliarità"), "sad": ("A2.07", "Assistenza domiciliare")}
ISEE = {"tipo": "sociosanitario", "valore": "8000", "data_dsu": "2026-02-18", "protocollo": "INPS-ISEE-2026-X-01"}
FNA_STEPS = [
    rules.Step("finanzia", date(2026, 9, 10), {"importo_annuo": "3600"}),
    rules.Step("avvia_erogazione", date(2026, 10, 5), {}),
]


def fna(steps, up_to=date(2026, 10, 31)):
    data = [rules.Step("presenta", date(2026, 6, 1), {"protocollo": "CSC-2026-1", "isee": ISEE}),
            rules.Step("firma_piano", date(2026, 9, 28), {"importo_mensile": "300", "mese_inizio": "2026-10-01"}),
            *steps]
    return rules.benefit_of(FNA, 7, sorted(data, key=lambda s: s.effective_on), up_to, "LEGAMI-7", CODES)


def test_an_fna_benefit_starts_with_disbursement_from_the_plans_month_with_its_isee_and_amount():
    b = fna(FNA_STEPS)
    assert b.attributes["CodicePrestazione"] == "A1.11" and b.attributes["PresenzaProvaMezzi"] == "1"
    assert b.attributes["DataInizioPrestazione"] == "2026-10-01" and b.attributes["ImportoMensile"] == "300.00"
    assert b.attributes["ProtocolloDomanda"] == "CSC-2026-1" and b.attributes["AnnoProtocolloDSU"] == "2026"
    assert "DataFinePrestazione" not in b.attributes and not b.retracted


def test_nothing_is_granted_before_disbursement_starts():
    assert fna(FNA_STEPS[:1]) is None
    assert fna(FNA_STEPS, up_to=date(2026, 10, 4)) is None


def test_a_lapse_ends_the_benefit_from_its_date_and_one_on_the_first_day_retracts_it():
    ended = fna([*FNA_STEPS, rules.Step("decadenza", date(2026, 11, 18), {"dal": "2026-11-15"})], date(2026, 11, 30))
    assert ended.attributes["DataFinePrestazione"] == "2026-11-15" and not ended.retracted
    void = fna([*FNA_STEPS, rules.Step("decadenza", date(2026, 11, 18), {"dal": "2026-10-01"})], date(2026, 11, 30))
    assert void.retracted


def test_an_insert_on_grant_and_on_change_a_cancel_only_for_a_sent_benefit_and_nothing_twice():
    granted = fna(FNA_STEPS)
    assert rules.operation(None, granted) == rules.INSERT
    sent = {"operation": "I", "attributes": granted.attributes}
    assert rules.operation(sent, granted) is None
    ended = fna([*FNA_STEPS, rules.Step("decadenza", date(2026, 11, 18), {"dal": "2026-11-15"})], date(2026, 11, 30))
    assert rules.operation(sent, ended) == rules.INSERT
    void = fna([*FNA_STEPS, rules.Step("decadenza", date(2026, 11, 18), {"dal": "2026-10-01"})], date(2026, 11, 30))
    assert rules.operation(sent, void) == rules.CANCEL
    assert rules.operation(None, void) is None
    assert rules.operation({"operation": "C", "attributes": granted.attributes}, void) is None


def test_sad_monthly_hours_come_from_the_latest_registered_month_up_to_the_period():
    steps = [rules.Step("emetti_voucher", date(2026, 1, 22), {"ore_mensili": "19.5", "tariffa_oraria": "22.00",
                                                             "quota_utente": "10"}),
             rules.Step("prima_visita", date(2026, 1, 29), {"ore": 0.75}),
             rules.Step("registra_visite", date(2026, 2, 3), {"mese": "2026-01-01", "ore": 1.5}),
             rules.Step("registra_visite", date(2026, 3, 3), {"mese": "2026-02-01", "ore": 12})]
    b = rules.benefit_of(SAD, 3, steps, date(2026, 2, 28), "LEGAMI-3", CODES)
    assert b.attributes["OreServizioMensile"] == "1.50"  # February's register came in March
    assert b.attributes["ImportoMensile"] == "429.00" and b.attributes["ImportoQuotaUtente"] == "10.00"
    assert b.attributes["PresenzaProvaMezzi"] == "4"  # no ISEE on the case
    assert rules.benefit_of(SAD, 3, steps, date(2026, 3, 31), "LEGAMI-3", CODES).attributes[
        "OreServizioMensile"] == "12.00"


def test_sina_is_not_sent_while_required_items_are_not_in_the_assessment_data_and_they_are_named():
    block, missing = rules.sina_block(FNA, {"adl": 4, "vive_solo": True})
    assert block is None and set(missing) == {"Mobilita", "DisturbiComportamentali", "AreaReddituale"}


def test_flow_names_periods_and_the_beneficiary_as_inps_wants_them():
    assert rules.flow_name("D142", date(2026, 11, 5), 3) == "D142.PS.20261105.0000003"
    assert rules.parse_period("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(InvalidData, match="AAAA-MM"):
        rules.parse_period("02/2026")
    assert rules.period_problem("2026-09", "2026-10") and rules.period_problem("2026-10", "2026-10") is None
    person = rules.anagrafica("BNCMNC36E55I827I", "Bianchessi", "Monica", date(1936, 5, 15))
    assert person["Genere"] == "2" and person["LuogoNascita"] == "I827" and person["CodiceCittadinanza"] == "990"
    assert rules.beneficiary_problem("BNCMNC36E55I827I", provisional=True)


def test_an_outcome_notice_is_read_with_italian_errors_for_what_is_wrong():
    [entry] = rules.parse_outcomes({"elenco_esiti": [{"id_flusso": "D142.PS.20261105.0000001",
                                                     "codice_esito": "ok", "codice_siuss": "22738"}]})
    assert entry.code == "OK" and entry.siuss_id == "22738"
    with pytest.raises(InvalidData, match="sconosciuto"):
        rules.parse_outcomes([{"id_flusso": "X", "codice_esito": "FORSE"}])
    with pytest.raises(InvalidData, match="non contiene esiti"):
        rules.parse_outcomes({"elenco_esiti": []})


def test_no_user_writes_a_siuss_outcome_in_a_diary_but_it_reads_with_its_label():
    from datetime import datetime, timezone

    from domain.diary import SIUSS_OUTCOME, check_entry, kind_labels, kinds_for

    assert SIUSS_OUTCOME not in kinds_for("fna_domanda")
    assert kind_labels("fna_domanda")[SIUSS_OUTCOME] == "Esito del Casellario dell'Assistenza (INPS)"
    with pytest.raises(InvalidData):
        check_entry({"tipo": SIUSS_OUTCOME, "avvenuto_il": "18/11/2026 10:30", "testo": "esito OK",
                     "classe": "sociale"}, case_type="fna_domanda", now=datetime(2026, 11, 20, tzinfo=timezone.utc))


def test_a_patto_goes_with_its_economic_measure_monthly_or_one_off_and_without_one_not_at_all():
    from domain.casetypes.patto.siuss import SIUSS as PATTO

    codes = {"patto_mensile": ("A1.04", "Contributi economici mensili"),
             "patto_una_tantum": ("A1.05", "Contributi economici una tantum")}

    def patto(measure):
        steps = [rules.Step("attiva", date(2026, 8, 7), {"data_inizio": "2026-08-07", "misura_economica": measure})]
        return rules.benefit_of(PATTO, 5, steps, date(2026, 8, 31), "LEGAMI-5", codes)

    monthly = patto({"tipo": "mensile", "importo": "250", "mensilita": 6, "voci": ["affitto"]}).attributes
    assert monthly["CodicePrestazione"] == "A1.04" and monthly["ImportoMensile"] == "250.00"
    assert monthly["CaratterePrestazione"] == "1" and monthly["AreaUtenza"] == "3"
    once = patto({"tipo": "una_tantum", "importo": "1200", "mensilita": 1, "voci": ["utenze"]}).attributes
    assert once["CodicePrestazione"] == "A1.05" and once["ImportoPrestazione"] == "1200.00"
    assert once["CaratterePrestazione"] == "2" and "ImportoMensile" not in once
    assert patto(None) is None
