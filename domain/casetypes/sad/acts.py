"""The SAD case's generated act (DOMAIN.md §6, §14): the voucher, issued with `emetti_voucher`."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.acts import Act

ATTI = Path(__file__).parent / "atti"


def _monthly_value(d: dict[str, Any]) -> dict[str, Any]:
    hours, rate = d.get("ore_mensili"), d.get("tariffa_oraria")
    return {"valore_mensile": Decimal(str(hours)) * Decimal(str(rate)) if hours and rate else None}


ACTS = (
    Act("voucher_sad", "Voucher sociale per l'assistenza domiciliare", ATTI / "voucher_sad.html", "emetti_voucher",
        frozenset({"VOUCHER_ISSUED", "ACTIVE", "REVIEW", "SUSPENDED"}),
        ("ente", "servizi", "ore_settimanali", "ore_mensili", "tariffa_oraria", "quota_utente", "valido_dal",
         "valido_al"),
        extras=_monthly_value),
)
