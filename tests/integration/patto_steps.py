"""Valid payloads for a patto's full path, shared by the integration tests."""
from __future__ import annotations

from datetime import date

from domain.validation import make_codice_fiscale


def persona(surname: str = "Bianchi", name: str = "Luca", birth: date = date(1980, 5, 4)) -> dict:
    return {
        "codice_fiscale": make_codice_fiscale(surname, name, birth, "M", "D142"),
        "cognome": surname,
        "nome": name,
        "data_nascita": birth.isoformat(),
    }


def segnalazione(**person) -> dict:
    return {"persona": persona(**person), "fonte": "caritas", "bisogno": "utenze"}


ASSEGNA = {"assegnatario": "as.rossi", "primo_colloquio_il": "14/01/2026"}

VALUTAZIONE = {
    "tipologia": "inclusione",
    "bisogni": "debiti sulle utenze",
    "risorse": "rete parrocchiale",
    "componenti_nucleo": 3,
    "isee": {"tipo": "ordinario", "valore": "6500", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
             "data_dsu": "2026-01-10"},
}


def patto_firmato(amount: str = "400", months: int = 6, start: str = "01/02/2026", end: str = "31/07/2026") -> dict:
    return {
        "canale": "progetto",
        "obiettivi": [
            {"descrizione": "rientro dal debito", "indicatore": "bollette pagate", "target": "6", "peso": 2},
            {"descrizione": "ricerca di lavoro", "indicatore": "colloqui svolti", "target": "4"},
        ],
        "impegni_reciprocita": [{"attivita": "doposcuola", "ente_ospitante": "Parrocchia", "ore_settimanali": 4}],
        "misura_economica": {"tipo": "mensile", "importo": amount, "mensilita": months, "voci": ["sostegno_reddito"]},
        "data_inizio": start,
        "data_fine": end,
        "firmato_il": "02/02/2026",
        "firmatari": ["Luca Bianchi"],
        "firma_assistente_sociale": True,
        "informativa_privacy": True,
    }


MONITORAGGIO = {"incontro_il": "02/03/2026", "ore_reciprocita": "16", "avanzamento": "regolare",
                "importo_erogato": "400"}

VERIFICA = {"raggiungimento": ["1", "0.5"], "relazione": "obiettivi in gran parte raggiunti"}


def open_patto(service, actor, **person) -> int:
    return service.open_case(case_type="patto", actor=actor, comune_istat="019035",
                             effective_at=date(2026, 1, 12), data=segnalazione(**person))


def drive_to_active(service, case_id: int) -> None:
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    service.advance(case_id=case_id, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 1, 14))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    service.advance(case_id=case_id, transition="attiva", actor=worker, data=patto_firmato(),
                    effective_at=date(2026, 2, 2))
