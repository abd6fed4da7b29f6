"""The patto gener-attivo in the Casellario dell'Assistenza (domain/siuss.py): its economic measure.

Granted when the patto is signed and activated (from its start date), changed by an ISEE renewal, ended by
interruption, withdrawal or the final review. A monthly measure goes as a periodic benefit with its monthly
amount, a one-off as an occasional one with its total; which CodicePrestazione each is (A1.04 / A1.05) is the
Ambito's provisional table; a patto without an economic measure grants nothing the Casellario records and is not
sent. No SINA block (not a non-self-sufficiency benefit).
"""
from __future__ import annotations

from decimal import Decimal

from domain.siuss import SiussMapping


def _measure(data) -> dict:
    return data.get("misura_economica") or {}


def _benefit(data) -> str | None:
    kind = _measure(data).get("tipo")
    return None if kind is None else "patto_una_tantum" if kind == "una_tantum" else "patto_mensile"


SIUSS = SiussMapping(
    prestazione=_benefit,
    grant=("attiva",),
    end=("interrompi", "rinuncia", "chiudi"),
    change=("aggiorna_isee",),
    start_field="data_inizio",
    end_fields=("dichiarazione_del",),
    monthly_amount=lambda d: (Decimal(str(_measure(d)["importo"])) if _measure(d).get("tipo") == "mensile"
                              else None),
    total_amount=lambda d: (Decimal(str(_measure(d)["importo"])) if _measure(d).get("tipo") == "una_tantum"
                            else None),
    periodic=lambda d: _measure(d).get("tipo") != "una_tantum",
    area_utenza="3",
)
