"""A small district world shared by the access, web and browser tests.

A patto in Crema and one in Pandino, two SAD cases in Crema (one chose ENTE01, the other ENTE02), an FNA
application sent for assessment, the FNA call, the providers' adhesions and a minor's patto.
"""
from __future__ import annotations

from datetime import date

from tests.integration.patto_steps import (
    ASSEGNA,
    VALUTAZIONE,
    patto_firmato,
    persona,
    segnalazione,
)

EXTRA_USERS = [
    ("as.bruni", "social_worker", "Crema", None),
    ("coord.pandino", "subarea_coordinator", "Pandino", None),
    ("ente.ponte", "provider", None, "ENTE02"),
    ("ovd.valutatore", "evaluator", None, None),
    ("asst.medici", "health_assessor", None, None),
    ("reg.lettore", "regional_reader", None, None),  # of no Ambito: aggregates across Ambiti, no case
]
PANDINO = "019067"
CREMA = "019035"



def adhesion(service, codice: str) -> int:
    csc = service.actor("csc.bianchi")
    case_id = service.open_case(case_type="sad_adesione", actor=csc, effective_at=date(2026, 2, 2),
                                data={"ente": codice, "inviato_il": "02/02/2026"})
    service.advance(case_id=case_id, transition="rispondi", actor=csc, effective_at=date(2026, 2, 5),
                    data={"referente": "Maria Conti", "risposto_il": "05/02/2026"})
    service.advance(case_id=case_id, transition="firma", actor=csc, effective_at=date(2026, 2, 20),
                    data={"firmato_il": "20/02/2026", "valido_fino": "31/12/2026", "comuni": [CREMA, PANDINO]})
    service.advance(case_id=case_id, transition="attiva", actor=csc, effective_at=date(2026, 3, 2))
    return case_id


def sad_case(service, worker: str, codice: str, surname: str, voucher: bool) -> int:
    actor = service.actor(worker)
    case_id = service.open_case(case_type="sad_caso", actor=actor, comune_istat=CREMA, effective_at=date(2026, 4, 1),
                                data={"persona": persona(surname, "Ada", date(1938, 4, 2)),
                                      "fonte": "dimissione_protetta"})
    service.advance(case_id=case_id, transition="valuta", actor=actor, effective_at=date(2026, 4, 8),
                    data={"visita_domiciliare_il": "08/04/2026", "adl": 3, "iadl": 5, "isee_valore": "9000"})
    service.advance(case_id=case_id, transition="redigi_pai", actor=actor, effective_at=date(2026, 4, 10),
                    data={"obiettivi": ["igiene quotidiana in sicurezza"], "servizi": ["igiene_personale"],
                          "ore_settimanali": "5", "revisione_il": "10/05/2026"})
    service.advance(case_id=case_id, transition="scegli_ente", actor=actor, effective_at=date(2026, 4, 13),
                    data={"ente": codice, "modulo_firmato_il": "13/04/2026"})
    if voucher:
        service.advance(case_id=case_id, transition="emetti_voucher", actor=service.actor("csc.bianchi"),
                        effective_at=date(2026, 4, 15),
                        data={"ore_mensili": "22", "tariffa_oraria": "21.50", "quota_utente": "40",
                              "valido_dal": "15/04/2026", "valido_al": "31/12/2026"})
    return case_id


def fna(service) -> tuple[int, int]:
    udp, csc = service.actor("udp.neri"), service.actor("csc.bianchi")
    call = service.open_case(case_type="fna_bando", actor=udp, effective_at=date(2026, 5, 4),
                             data={"titolo": "Bando FNA B2 2026", "anno_fna": 2025, "dgr": "DGR 1234/2026"})
    service.advance(case_id=call, transition="approva", actor=udp, effective_at=date(2026, 5, 20), data={
        "delibera": "Assemblea dei Sindaci 20/05/2026", "budget": "200000",
        "misure": [{"misura": "caregiver", "importo_min": "100", "importo_max": "400"}],
        "apertura": "10/06/2026", "chiusura": "10/07/2026"})
    service.advance(case_id=call, transition="apri", actor=udp, effective_at=date(2026, 6, 10))
    application = service.open_case(
        case_type="fna_domanda", actor=csc, comune_istat=CREMA, related_case_id=call, effective_at=date(2026, 6, 15),
        data={"persona": persona("Ferri", "Elena", date(1941, 9, 12)), "protocollo": "CSC-2026-0042",
              "isee": {"tipo": "sociosanitario", "valore": "14000", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                       "data_dsu": "2026-02-10"},
              "invalidita_104_art3c3": True, "indennita_accompagnamento": True, "misura": "caregiver",
              "caregiver": "Franco Ferri", "iban": "IT60X0542811101000000123456"})
    service.advance(case_id=application, transition="avvia_istruttoria", actor=csc, effective_at=date(2026, 6, 16))
    service.advance(case_id=application, transition="avvia_valutazione", actor=csc, effective_at=date(2026, 6, 20))
    return call, application


def patto(service, worker: str, coord: str, comune: str, **person) -> int:
    case_id = service.open_case(case_type="patto", actor=service.actor(worker), comune_istat=comune,
                                effective_at=date(2026, 1, 12), data=segnalazione(**person))
    service.advance(case_id=case_id, transition="assegna", actor=service.actor(coord),
                    data={**ASSEGNA, "assegnatario": worker}, effective_at=date(2026, 1, 14))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=service.actor(worker), data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    service.advance(case_id=case_id, transition="attiva", actor=service.actor(worker), data=patto_firmato(),
                    effective_at=date(2026, 2, 2))
    return case_id



def build_world(service) -> dict[str, int]:
    ids = {
        "patto_crema": patto(service, "as.rossi", "coord.crema", CREMA),
        "patto_pandino": patto(service, "as.verdi", "coord.pandino", PANDINO, surname="Riva", name="Marco"),
        "adesione01": adhesion(service, "ENTE01"),
        "adesione02": adhesion(service, "ENTE02"),
    }
    ids["sad_ente01"] = sad_case(service, "as.rossi", "ENTE01", "Colombo", voucher=True)
    ids["sad_ente02"] = sad_case(service, "as.bruni", "ENTE02", "Sala", voucher=False)
    ids["bando"], ids["fna"] = fna(service)
    ids["minore"] = patto(service, "as.rossi", "coord.crema", CREMA, surname="Galli", name="Sara",
                          birth=date(2012, 3, 9))
    return ids
