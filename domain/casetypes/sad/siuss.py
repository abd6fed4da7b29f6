"""The SAD case in the Casellario dell'Assistenza (domain/siuss.py): home care as INPS knows it.

Granted at the first visit, changed by a new voucher, a change of provider or a confirmed care plan, ended by
interruption, withdrawal or the final review; the monthly amount is the voucher's (monthly hours × hourly
rate), the user's share the voucher's, the monthly hours those of the latest month in the provider's visit
register. SINA: the SAD assessment records ADL/IADL only; mobility, behavioural disorders, income and support
areas are not recorded, so the block is not sent and those items are reported.
"""
from __future__ import annotations

from decimal import Decimal

from domain.siuss import SiussMapping, SinaItem


def _voucher(data) -> Decimal | None:
    if data.get("ore_mensili") in (None, "") or data.get("tariffa_oraria") in (None, ""):
        return None
    return Decimal(str(data["ore_mensili"])) * Decimal(str(data["tariffa_oraria"]))


SIUSS = SiussMapping(
    prestazione="sad",
    grant=("prima_visita",),
    end=("interrompi", "rinuncia", "chiudi"),
    change=("emetti_voucher", "cambia_ente", "conferma_pai"),
    end_fields=("dichiarazione_del",),
    monthly_amount=_voucher,
    user_share="quota_utente",
    hours_register=("registra_visite", "mese", "ore"),
    area_utenza="2",
    sina=(
        SinaItem("AttivitaVitaQuotidiana", "punteggio ADL della valutazione domiciliare",
                 lambda d: None if d.get("adl") is None else ("1" if int(d["adl"]) == 0 else
                                                             "2" if int(d["adl"]) <= 3 else "3")),
        SinaItem("FonteDerivazioneValutazione", "visita domiciliare dell'assistente sociale", lambda d: "2"),
        SinaItem("StrumentoValutazione", "scala ADL/IADL (altro sistema)", lambda d: "7"),
    ),
)
