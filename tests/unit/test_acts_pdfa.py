"""Every declared act (domain/acts.py) rendered to PDF/A from a synthetic case's fields: opened with pypdf, its
PDF/A-2b identification, OutputIntent and embedded fonts checked (tests/pdfa_check.py), its Italian text read.
And the declarations are checked: a bad one is refused at load, naming the act and the key."""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from domain.acts import Act, act_classes, stored_class
from domain.casetype import CaseType, DeclarationError
from domain.fields import FieldClass
from domain.registry import all_case_types, get_case_type
from reports.acts import act_html, act_pdf
from tests.pdfa_check import pdf_text, pdf_title, pdfa_problems

FIELDS = {
    "tipologia": "inclusione",
    "obiettivi": [{"descrizione": "Ricerca attiva di lavoro", "indicatore": "candidature inviate", "target": "10",
                   "peso": "1"}],
    "impegni_reciprocita": [{"attivita": "Aiuto nella mensa solidale", "ente_ospitante": "Caritas Crema",
                             "ore_settimanali": "4"}],
    "misura_economica": {"tipo": "mensile", "importo": "250.00", "mensilita": 6, "voci": ["affitto", "utenze"]},
    "data_inizio": "2026-12-01", "data_fine": "2027-05-31", "firmatari": ["Mario Bianchi", "Lucia Bianchi"],
    "protocollo": "CSC-2026-0042", "documenti_mancanti": ["Certificazione L. 104/92", "Attestazione ISEE"],
    "motivi": ["ISEE sociosanitario oltre la soglia del bando"], "comunicato_il": "2026-11-02",
    "misura": "caregiver", "misura_proposta": "caregiver", "importo_mensile_proposto": "400.00",
    "importo_annuo": "4800.00", "osservazioni_ricevute": False, "esame_osservazioni": None,
    "ente": "ENTE01", "servizi": ["igiene_personale"], "ore_settimanali": "5", "ore_mensili": "22",
    "tariffa_oraria": "21.50", "quota_utente": "40.00", "valido_dal": "2026-04-15", "valido_al": "2026-12-31",
    "evento": "gravidanza", "figli": 2, "data_presunta_parto": "2027-03-10", "inviante": "Consultorio di Crema",
    "colloquio_il": "2026-11-10", "aree_vulnerabilita": ["economica", "abitativa"],
    "scheda_rilasciata_il": "2026-11-12",
}
# what each act must say, in Italian, besides its title and the person
EXPECTED = {
    "patto_da_firmare": ["patto gener-attivo per l'inclusione: un aiuto economico", "Ricerca attiva di lavoro", "Aiuto nella mensa solidale", "€ 1.500,00",
                         "dal 01/12/2026 e termina il 31/05/2027", "Mario Bianchi", "Regolamento UE 2016/679"],
    "soccorso_istruttorio": ["soccorso istruttorio", "Certificazione L. 104/92", "entro il 30/11/2026",
                             "la domanda sarà archiviata"],
    "preavviso_rigetto": ["art. 10-bis della Legge 7 agosto 1990, n. 241", "ISEE sociosanitario oltre la soglia",
                          "Entro il termine di 10 giorni", "osservazioni"],
    "esito_finanziata": ["ammessa e finanziata", "€ 4.800,00", "Tribunale Amministrativo Regionale entro 60"],
    "esito_non_finanziata": ["ammessa ma non finanziata", "esaurimento delle risorse"],
    "esito_non_ammessa": ["non è stata ammessa", "ISEE sociosanitario oltre la soglia", "non sono pervenute"],
    "voucher_sad": ["ENTE01", "Igiene personale", "€ 473,00", "dal 15/04/2026 al 31/12/2026"],
    "scheda_vulnerabilita": ["avvenuto colloquio", "10/11/2026", "Economica, Abitativa", "10/03/2027"],
}
ACTS = [(ct, act) for ct in all_case_types() for act in ct.acts]


def context(ct: CaseType, act: Act) -> dict:
    d = {f: FIELDS[f] for f in act.fields}
    return {"ambito": "Ambito Distrettuale Cremasco", "comune": "Crema",
            "persona": {"cognome": "Bianchi", "nome": "Mario", "codice_fiscale": "BNCMRA80A01D142X"}, "d": d,
            "caso": {"id": 42, "tipo": ct.label, "stato": "—", "protocollo": d.get("protocollo")},
            "passo": None, "ente_nome": None, "scadenze": {"integrazioni": "2026-11-30"}, "generato_il": date(2026, 11, 20),
            **(act.extras(d) if act.extras else {})}


def test_the_four_case_types_declare_the_six_acts_of_the_issue():
    assert sorted(a.name for _, a in ACTS) == sorted(EXPECTED)


@pytest.mark.parametrize(("ct", "act"), ACTS, ids=[a.name for _, a in ACTS])
def test_each_act_is_a_pdfa_with_its_fonts_embedded_and_its_italian_text(ct, act):
    pdf = act_pdf(act, context(ct, act))
    assert pdfa_problems(pdf) == []
    text = pdf_text(pdf)
    for words in (act.title, "Bianchi Mario", "BNCMRA80A01D142X", "Ambito Distrettuale Cremasco",
                  *EXPECTED[act.name]):
        assert words in text, f"{act.name}: manca «{words}»"
    assert pdf_title(pdf) == f"{act.title} - caso n. 42"


def test_the_patto_to_sign_without_its_contents_leaves_lines_to_fill_by_hand():
    ct = get_case_type("patto")
    act = ct.acts[0]
    blank = context(ct, act) | {"d": {f: None for f in act.fields}, "totale": None}
    text = pdf_text(act_pdf(act, blank))
    assert "Da compilare con l'assistente sociale" in text and "decorre dal ____/____/________" in text


def test_a_value_in_a_template_is_escaped_not_run_as_html():
    ct = get_case_type("fna_domanda")
    act = next(a for a in ct.acts if a.name == "soccorso_istruttorio")
    ctx = context(ct, act)
    ctx["d"] = ctx["d"] | {"documenti_mancanti": ["<b>grassetto</b>"]}
    assert "&lt;b&gt;grassetto&lt;/b&gt;" in act_html(act, ctx)


def test_an_act_with_a_health_field_is_filed_as_health_data_and_the_others_as_social_documents():
    scheda = get_case_type("bonus_famiglia").acts[0]
    assert FieldClass.HEALTH in act_classes(get_case_type("bonus_famiglia"), scheda)
    assert stored_class(get_case_type("bonus_famiglia"), scheda) is FieldClass.HEALTH
    fna = get_case_type("fna_domanda")
    assert {stored_class(fna, a) for a in fna.acts} == {FieldClass.SOCIAL}
    assert stored_class(get_case_type("patto"), get_case_type("patto").acts[0]) is FieldClass.SOCIAL


@pytest.mark.parametrize(("change", "message"), [
    ({"transition": "vola"}, "atto patto_da_firmare: transizione inesistente vola"),
    ({"states": frozenset({"LIMBO"})}, "atto patto_da_firmare: stato inesistente LIMBO"),
    ({"fields": ("obiettivi", "colore")}, "atto patto_da_firmare: campo inesistente colore"),
    ({"template": Path("/nessuna/cartella/atto.html")}, "atto patto_da_firmare: modello mancante atto.html"),
    ({"prepares": False}, "solo un atto da firmare prima del passo riceve contenuti"),
])
def test_a_bad_act_declaration_is_refused_naming_the_act_and_the_key(change, message):
    ct = get_case_type("patto")
    bad = dataclasses.replace(ct.acts[0], **change)
    with pytest.raises(DeclarationError, match=message):
        dataclasses.replace(ct, acts=(bad,))
