"""The FNA application's generated acts (DOMAIN.md §5c, §14): the request to complete the application
(soccorso istruttorio), the notice before rejection (art. 10-bis L. 241/1990) and the outcome letters."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.acts import Act
from domain.casetypes.fna.domanda import OBSERVATION_DAYS

ATTI = Path(__file__).parent / "atti"
OUTCOME = ATTI / "esito_domanda.html"


def _observation_days(_: dict[str, Any]) -> dict[str, Any]:
    return {"giorni_osservazioni": OBSERVATION_DAYS}


def _outcome(name: str):
    def extras(_: dict[str, Any]) -> dict[str, Any]:
        return {"esito": name}

    return extras


ACTS = (
    Act("soccorso_istruttorio", "Richiesta di integrazione della domanda (soccorso istruttorio)",
        ATTI / "soccorso_istruttorio.html", "richiedi_integrazioni", frozenset({"INFO_REQUESTED"}),
        ("protocollo", "documenti_mancanti")),
    Act("preavviso_rigetto", "Preavviso di rigetto (art. 10-bis L. 241/1990)", ATTI / "preavviso_rigetto.html",
        "preavviso_rigetto", frozenset({"REJECTION_NOTICE"}), ("protocollo", "motivi", "comunicato_il"),
        extras=_observation_days),
    Act("esito_finanziata", "Esito della domanda: ammessa e finanziata", OUTCOME, "finanzia",
        frozenset({"FUNDED", "PLAN_SIGNED"}),
        ("protocollo", "misura", "misura_proposta", "importo_mensile_proposto", "importo_annuo"),
        extras=_outcome("finanziata")),
    Act("esito_non_finanziata", "Esito della domanda: ammessa non finanziata", OUTCOME, "non_finanzia",
        frozenset({"NOT_FUNDED"}), ("protocollo", "misura"), extras=_outcome("non_finanziata")),
    Act("esito_non_ammessa", "Esito della domanda: non ammessa", OUTCOME, "rigetta", frozenset({"NOT_ADMITTED"}),
        ("protocollo", "motivi", "osservazioni_ricevute", "esame_osservazioni"), extras=_outcome("non_ammessa")),
)
