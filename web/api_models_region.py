"""The API's answer for the regional reader (/api/v1/regione/indicatori): every Ambito's indicators by distretto."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from web.api_models import Cella, RigaCella, _Out


class CellaAmbito(_Out):
    ambito: str = Field(description="Codice dell'Ambito")
    totale: Cella
    distretti: list[RigaCella] = Field(description="Una riga per distretto (celle piccole oscurate)")


class IndicatoreRegionale(_Out):
    codice: str
    etichetta: str
    gruppo: str | None = None
    unita: str
    ambiti: list[CellaAmbito]


class IndicatoriRegione(_Out):
    anno: int
    al: date
    soglia_riservatezza: int | None
    ambiti: list[dict[str, Any]] = Field(description="Gli Ambiti dell'istanza: codice, nome, distretti")
    indicatori: list[IndicatoreRegionale]
    fuori_distretto: str = Field(description="La chiave delle righe dei casi senza comune (bandi, adesioni)")
