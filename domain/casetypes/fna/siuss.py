"""FNA Misura B2 in the Casellario dell'Assistenza (domain/siuss.py): the application's benefit as INPS knows it.

Granted when disbursement starts (from the plan's start month), changed by an ISEE renewal, ended by lapse
(decadenza, from its date), withdrawal or the final review. SINA: the FNA assessment records ADL/IADL, the
disability certificates and whether the person lives alone; it records nothing for mobility, behavioural
disorders or the income area, which SINA requires, so the block is not sent and those items are reported.
"""
from __future__ import annotations

from decimal import Decimal

from domain.siuss import SiussMapping, SinaItem


def _support(data) -> str | None:
    if data.get("vive_solo") is None:
        return None
    if data.get("vive_solo"):
        return "3"  # assenza della rete familiare o informale
    return "1" if data.get("caregiver") else "2"


def _daily_living(data) -> str | None:
    adl = data.get("adl")  # functions lost, 0-6 (health data)
    return None if adl is None else ("1" if int(adl) == 0 else "2" if int(adl) <= 3 else "3")


SIUSS = SiussMapping(
    prestazione="fna_b2",
    grant=("avvia_erogazione",),
    end=("decadenza", "rinuncia", "chiudi"),
    change=("aggiorna_isee",),
    start_field="mese_inizio",
    end_fields=("dal", "dichiarazione_del"),
    monthly_amount=lambda d: Decimal(str(d["importo_mensile"])) if d.get("importo_mensile") else None,
    area_utenza="2",
    sina=(
        SinaItem("AttivitaVitaQuotidiana", "punteggio ADL della valutazione", _daily_living),
        SinaItem("AreaSupporto", "vive solo / caregiver", _support),
        SinaItem("FonteDerivazioneValutazione", "valutazione multidimensionale (UVM)", lambda d: "1"),
        SinaItem("StrumentoValutazione", "scala ADL/IADL (altro sistema)", lambda d: "7"),
    ),
)
