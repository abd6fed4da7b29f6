"""FNA Misura B2: the call (bando), DOMAIN.md §5a-b."""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from domain.casetypes.fna import ranking as rk
from domain.common import (
    Form,
    as_date,
)
from domain.engine import Context
from domain.validation import Euro, ItalianDate
from domain.workflow import Basis, DeadlineRule, Guard, Role, Source, State
from domain.workflow import Transition, Workflow

R = Role
UDP, CSC, WORKER = R.PLANNING_OFFICE, R.CSC_ADMIN, R.SOCIAL_WORKER


class Misura(StrEnum):
    CAREGIVER = "caregiver"
    ASSISTENTE_PERSONALE = "assistente_personale"
    VITA_INDIPENDENTE = "vita_indipendente"
    VOUCHER_MINORI = "voucher_minori"


DEFAULT_INCOMPATIBILITIES = ["B1", "RSA", "RSD", "CSS", "hospice", "BAF", "RSA aperta", "Home Care Premium", "Pro.Vi"]


# ============================== the call (bando) ==============================


class BozzaBando(Form):
    titolo: str = Field(title="Titolo del bando", min_length=5)
    anno_fna: int = Field(title="Annualità FNA", ge=2015, le=2100)
    dgr: str = Field(title="DGR di riferimento", min_length=3)


class MisuraBando(Form):
    model_config = ConfigDict(title="Misura")  # one row of a list: «Misura 1»

    misura: Misura = Field(title="Misura")
    importo_min: Euro = Field(title="Importo mensile minimo (€)")
    importo_max: Euro = Field(title="Importo mensile massimo (€)", gt=0)

    @model_validator(mode="after")
    def min_not_above_max(self) -> "MisuraBando":
        if self.importo_min > self.importo_max:
            raise ValueError("l'importo minimo supera il massimo")
        return self


class ApprovazioneBando(Form):
    delibera: str = Field(title="Estremi della delibera di approvazione", min_length=3)
    budget: Euro = Field(title="Budget del bando (€)", gt=0)
    misure: list[MisuraBando] = Field(title="Misure e importi", min_length=1)
    isee_max_adulti: Euro = Field(default=Decimal(25000), title="Soglia ISEE sociosanitario adulti (€)")
    isee_max_minori: Euro = Field(default=Decimal(40000), title="Soglia ISEE ordinario minori (€)")
    apertura: ItalianDate = Field(title="Apertura dei termini")
    chiusura: ItalianDate = Field(title="Chiusura dei termini")
    giorni_esito: int = Field(default=30, title="Giorni per l'esito (L. 241/90 se il bando tace)", ge=1, le=180)
    incompatibilita: list[str] = Field(default_factory=lambda: list(DEFAULT_INCOMPATIBILITIES),
                                       title="Misure incompatibili")

    @model_validator(mode="after")
    def window_is_ordered(self) -> "ApprovazioneBando":
        if self.chiusura <= self.apertura:
            raise ValueError("la chiusura dei termini deve seguire l'apertura")
        return self


class PosizioneGraduatoria(Form):
    model_config = ConfigDict(title="Posizione")  # one row of a list: «Posizione 1»

    domanda: int = Field(title="Domanda")
    protocollo: str = Field(title="Protocollo")
    punteggio: Decimal = Field(title="Punteggio")
    dettaglio: dict[str, Decimal] = Field(title="Dettaglio del punteggio")


class SnapshotGraduatoria(Form):
    """What a ranking step computes and records: never sent by a user."""

    # computed from the call's applications, not typed: bounded by the largest call, not by the input bound
    posizioni: list[PosizioneGraduatoria] = Field(title="Posizioni in graduatoria", max_length=100_000)


class Graduatoria(Form):
    """What a ranking step takes from its user: the act only. The positions are computed when the step fires
    (`_ranking_snapshot`), from the call's applications, by domain/casetypes/fna/ranking.py: a client cannot
    send its own (an unknown field is refused) nor rank an application of another call."""

    atto: str = Field(title="Atto di approvazione della graduatoria", min_length=3, max_length=200)


def _ranking_snapshot(ctx: Context) -> dict[str, Any]:
    """The immutable snapshot recorded by a ranking step: each ranked application with its breakdown."""
    entries = rk.ranking_of_call(ctx.world, ctx.case)
    return {"posizioni": rk.positions(entries)}


def _window_started(ctx: Context) -> str | None:
    opens = as_date(ctx.merged["apertura"])
    return f"i termini si aprono il {opens:%d/%m/%Y}" if ctx.effective_on < opens else None


def _window_ended(ctx: Context) -> str | None:
    closes = as_date(ctx.merged["chiusura"])
    return f"i termini chiudono il {closes:%d/%m/%Y}" if ctx.effective_on <= closes else None


def _call_term(ctx: Context) -> int:
    return int(ctx.merged.get("giorni_esito", 30))


APERTURA = DeadlineRule("apertura_bando", "Apertura dei termini", 0, Basis.CALENDAR, Source.CONFIGURED,
                        met_by=("apri",), anchor="data:apertura", days_label="alla data di apertura",
                        fires="apri")
CHIUSURA = DeadlineRule("chiusura_bando", "Chiusura dei termini", 1, Basis.CALENDAR, Source.CONFIGURED,
                        met_by=("chiudi",), anchor="data:chiusura", days_label="il giorno dopo la chiusura",
                        fires="chiudi")
GRADUATORIA = DeadlineRule("graduatoria_definitiva", "Graduatoria definitiva", _call_term, Basis.CALENDAR,
                           Source.STATUTORY, met_by=("pubblica_graduatoria_definitiva",),
                           days_label="giorni del bando (30 per L. 241/90)")

BANDO = Workflow(
    case_type="fna_bando",
    label="Bando FNA Misura B2",
    description="Il bando pubblico per l'accesso alla Misura B2 del Fondo Non Autosufficienza",
    district_level=True,
    has_person=False,
    states=(
        State("DRAFT", "Bozza"),
        State("APPROVED", "Approvato"),
        State("OPEN", "Aperto"),
        State("CLOSED", "Chiuso"),
        State("RANKING_PROVISIONAL", "Graduatoria provvisoria"),
        State("RANKING_FINAL", "Graduatoria definitiva"),
        State("DISBURSING", "In erogazione"),
        State("REPORTING", "Rendicontazione"),
        State("ARCHIVED", "Archiviato", terminal=True),
    ),
    transitions=(
        Transition("crea", "Nuovo bando", (), "DRAFT", frozenset({UDP}), data=BozzaBando),
        Transition("approva", "Approvazione", ("DRAFT",), "APPROVED", frozenset({UDP}),
                   data=ApprovazioneBando, starts=(APERTURA, CHIUSURA)),
        Transition("apri", "Apertura dei termini", ("APPROVED",), "OPEN", frozenset({R.SYSTEM, UDP}),
                   automatic=True, guards=(Guard("non prima dell'apertura", _window_started),)),
        Transition("chiudi", "Chiusura dei termini", ("OPEN",), "CLOSED", frozenset({R.SYSTEM, UDP}),
                   automatic=True, starts=(GRADUATORIA,),
                   guards=(Guard("solo dopo l'ultimo giorno utile", _window_ended),)),
        Transition("pubblica_graduatoria_provvisoria", "Graduatoria provvisoria", ("CLOSED",),
                   "RANKING_PROVISIONAL", frozenset({UDP}), data=Graduatoria, merge_data=False,
                   computes=_ranking_snapshot, computed_data=SnapshotGraduatoria),
        Transition("pubblica_graduatoria_definitiva", "Graduatoria definitiva", ("RANKING_PROVISIONAL",),
                   "RANKING_FINAL", frozenset({UDP}), data=Graduatoria, merge_data=False,
                   computes=_ranking_snapshot, computed_data=SnapshotGraduatoria),
        Transition("avvia_erogazioni", "Avvio delle erogazioni", ("RANKING_FINAL",), "DISBURSING",
                   frozenset({UDP, CSC})),
        Transition("rendiconta", "Rendicontazione", ("DISBURSING",), "REPORTING", frozenset({UDP})),
        Transition("archivia", "Archiviazione", ("REPORTING",), "ARCHIVED", frozenset({UDP})),
    ),
)


