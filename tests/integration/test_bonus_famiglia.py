"""Bonus Famiglia persisted through CaseService, on SQLite and PostgreSQL: a pregnancy from the interview request
to closure and an adoption paid once, ending in the year's tally (sheets issued, families supported, € paid)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from config.tally_files import load_tally_settings
from domain.errors import GuardRefused
from domain.validation import make_codice_fiscale
from services.queries import case_detail
from services.tallies import compute_tallies
from store.tables import outbox_t

CREMA = "019035"
NO_SUPPRESSION = replace(load_tally_settings(), threshold=1)


def mother(surname: str) -> dict:
    born = date(1991, 2, 14)
    return {"codice_fiscale": make_codice_fiscale(surname, "Anna", born, "F", "D142"), "cognome": surname,
            "nome": "Anna", "data_nascita": born.isoformat()}


def request(surname: str, evento: str = "gravidanza", figli: int = 1) -> dict:
    data = {"persona": mother(surname), "evento": evento, "figli": figli, "richiesto_il": "02/03/2026",
            "assegnatario": "as.rossi"}
    if evento == "gravidanza":
        data["data_presunta_parto"] = "20/07/2026"
    return data


SHEET = {"colloquio_il": "09/03/2026", "aree_vulnerabilita": ["economica"], "note_colloquio": "nucleo monoreddito",
         "scheda_rilasciata_il": "09/03/2026"}
APPLICATION = {"id_domanda_regionale": "BF-2026-000777", "presentata_il": "16/03/2026",
               "isee": {"tipo": "ordinario", "valore": "14500", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                        "data_dsu": "2026-01-10"},
               "anni_residenza_richiedente": 10, "anni_residenza_altro_genitore": 7}
MONITORING = {"compilata_il": "10/11/2026", "situazione_nucleo": "la famiglia si è stabilizzata",
              "uso_contributo": ["beni_prima_infanzia", "utenze_affitto"]}


def test_a_pregnancy_with_twins_and_an_adoption_end_in_the_years_tally(service, engine):
    csc, worker = service.actor("csc.bianchi"), service.actor("as.rossi")
    twins = service.open_case(case_type="bonus_famiglia", actor=csc, comune_istat=CREMA,
                              effective_at=date(2026, 3, 2), data=request("Ferrari", figli=2))
    go = lambda transition, who, day, data=None, case_id=twins, **kw: service.advance(  # noqa: E731
        case_id=case_id, transition=transition, actor=who, effective_at=day, data=data, **kw)
    go("rilascia_scheda", worker, date(2026, 3, 9), SHEET)
    go("presenta_domanda", worker, date(2026, 3, 16), APPLICATION)
    with pytest.raises(GuardRefused, match="diverso da € 3.000,00"):  # twins: 2 × € 1.500
        go("ammetti", csc, date(2026, 4, 20), {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1500"})
    go("ammetti", csc, date(2026, 4, 20), {"esito_comunicato_il": "20/04/2026", "importo_concesso": "3000"})
    go("eroga_prima_rata", csc, date(2026, 5, 5), {"pagato_il": "05/05/2026", "importo": "1500"})
    go("registra_nascita", worker, date(2026, 7, 22), {"nato_il": "18/07/2026", "nati": 2})
    go("presenta_tessera", csc, date(2026, 8, 3), {"tessera_presentata_il": "03/08/2026"})
    go("eroga_seconda_rata", csc, date(2026, 8, 20), {"pagato_il": "20/08/2026", "importo": "1500"})
    go("registra_monitoraggio", worker, date(2026, 11, 10), MONITORING)
    go("chiudi", worker, date(2026, 11, 19), {"relazione_finale": "monitoraggio concluso"})

    adoption = service.open_case(case_type="bonus_famiglia", actor=worker, comune_istat=CREMA,
                                 effective_at=date(2026, 3, 2), data=request("Galli", "adozione"))
    go("presenta_domanda", worker, date(2026, 3, 16), APPLICATION, case_id=adoption)
    go("ammetti", csc, date(2026, 4, 20), {"esito_comunicato_il": "20/04/2026", "importo_concesso": "1500"},
       case_id=adoption)
    go("eroga_contributo", csc, date(2026, 5, 5), {"pagato_il": "05/05/2026", "importo": "1500"}, case_id=adoption)

    refused = service.open_case(case_type="bonus_famiglia", actor=worker, comune_istat=CREMA,
                                effective_at=date(2026, 3, 2), data=request("Conti"))
    go("nega_scheda", worker, date(2026, 3, 9), {"colloquio_il": "09/03/2026",
                                                 "motivo_mancato_rilascio": "nessuna vulnerabilità"}, case_id=refused)

    detail = case_detail(engine, twins, today=date(2026, 11, 20))
    assert detail["stato"] == "CLOSED" and detail["tipologia"] == "gravidanza"
    assert detail["assegnatario"] == "as.rossi"  # opened by CSC, owned by the comune's social worker
    deadlines = {d["tipo"]: (d["scadenza"], d["stato"]) for d in detail["scadenze"]}
    assert deadlines["scheda_vulnerabilita"] == ("2026-03-16", "met")  # 10 working days from 02/03
    assert deadlines["tessera_sanitaria"] == ("2026-10-16", "met")  # 90 days from the birth (18/07)
    assert case_detail(engine, adoption, today=date(2026, 11, 20))["stato"] == "MONITORING"

    with engine.connect() as conn:  # the worker named at the request is told, with the type's own template
        mails = conn.execute(sa.select(outbox_t.c.case_id, outbox_t.c.recipient, outbox_t.c.template)
                             .where(outbox_t.c.template == "bonus_colloquio_assegnato")).all()
    assert sorted(mails) == sorted((c, "as.rossi@example.org", "bonus_colloquio_assegnato")
                                   for c in (twins, adoption, refused))

    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="sub_ambito", settings=NO_SUPPRESSION)
    got = {i["codice"]: i for i in result["indicatori"]}
    assert got["bonus_schede_rilasciate"]["totale"]["valore"] == 1
    assert got["bonus_schede_non_rilasciate"]["totale"]["valore"] == 1
    assert got["bonus_famiglie_sostenute"]["totale"]["valore"] == 2
    assert got["bonus_euro_erogati"]["totale"]["valore"] == 4500.0  # 1.500 + 1.500 (twins) + 1.500 (adoption)
    assert got["bonus_euro_erogati"]["righe"] == [r for r in got["bonus_euro_erogati"]["righe"] if r["chiave"] == "Crema"]
    assert got["bonus_ammesse_pct"]["totale"]["valore"] == 100.0
    assert got["bonus_famiglie_sostenute"]["obiettivo"] is not None  # its range di valutazione [A]
