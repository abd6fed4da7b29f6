"""The patto's generated act (DOMAIN.md §4, §14): the patto to sign, printed before `attiva`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from domain.acts import Act
from domain.casetypes.patto.workflow import ImpegnoReciprocita, MisuraEconomica, Obiettivo
from domain.common import Form
from domain.validation import ItalianDate

ATTI = Path(__file__).parent / "atti"


class ContenutiPatto(Form):
    """What the patto to sign prints before the case has recorded it (each part optional: a part left out is
    printed as lines to fill by hand)."""

    obiettivi: list[Obiettivo] | None = Field(default=None, title="Obiettivi")
    impegni_reciprocita: list[ImpegnoReciprocita] | None = Field(default=None, title="Impegni di reciprocità")
    misura_economica: MisuraEconomica | None = Field(default=None, title="Misura economica")
    data_inizio: ItalianDate | None = Field(default=None, title="Data di inizio")
    data_fine: ItalianDate | None = Field(default=None, title="Data di fine")
    firmatari: list[str] | None = Field(default=None, title="Firmatari (beneficiario e adulti coinvolti)")


def _total(d: dict[str, Any]) -> dict[str, Any]:
    m = d.get("misura_economica")
    return {"totale": MisuraEconomica.model_validate(m).totale() if m else None}


ACTS = (
    Act("patto_da_firmare", "Patto gener-attivo da sottoscrivere", ATTI / "patto_da_firmare.html", "attiva",
        frozenset({"DRAFTING", "ACTIVE", "SUSPENDED"}),
        ("tipologia", "obiettivi", "impegni_reciprocita", "misura_economica", "data_inizio", "data_fine",
         "firmatari"),
        prepares=True, inputs=ContenutiPatto, extras=_total),
)
