"""Patto gener-attivo (Piano di Zona 2015-2017, obiettivo 4): DOMAIN.md §4."""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from domain.common import (
    AggiornamentoIsee,
    Form,
    Persona,
    Rinuncia,
    as_date,
    assignee_is_social_worker_of_sub_ambito,
    euro,
    isee_valid_on_effective_date,
    months_between,
    newer_isee,
    not_after_effective,
)
from domain.engine import Context
from domain.validation import Euro, Isee, ItalianDate
from domain.workflow import (
    Basis,
    DeadlineRule,
    Guard,
    Outcome,
    OutcomeRule,
    Role,
    Source,
    State,
    Transition,
    Workflow,
)

R = Role


class FonteSegnalazione(StrEnum):
    SPONTANEA = "spontanea"
    CARITAS = "caritas"
    COMUNE = "comune"
    CENTRO_IMPIEGO = "centro_impiego"
    TERZO_SETTORE = "terzo_settore"


class Bisogno(StrEnum):
    ECONOMICO = "economico"
    ABITATIVO = "abitativo"
    LAVORATIVO = "lavorativo"
    UTENZE = "utenze"
    RELAZIONALE = "relazionale"


class Segnalazione(Form):
    persona: Persona = Field(title="Persona segnalata")
    fonte: FonteSegnalazione = Field(title="Fonte della segnalazione")
    bisogno: Bisogno = Field(title="Area di bisogno")
    note: str | None = Field(default=None, title="Note", max_length=2000)
    patto_precedente: int | None = Field(default=None, title="Patto precedente (rinnovo)")


class Assegnazione(Form):
    assegnatario: str = Field(title="Assistente sociale assegnatario", min_length=1)
    primo_colloquio_il: ItalianDate = Field(title="Data del primo colloquio")


class RequisitoMancante(StrEnum):
    RESIDENZA = "residenza"
    ISEE = "isee"
    ALTRO = "altro"


class NonAmmissione(Form):
    requisito_mancante: RequisitoMancante = Field(title="Requisito mancante")
    comunicata_il: ItalianDate = Field(title="Data di comunicazione della decisione")


class Valutazione(Form):
    tipologia: Literal["inclusione", "autonomia"] = Field(title="Tipologia di patto")
    bisogni: str = Field(title="Bisogni rilevati", min_length=3)
    risorse: str = Field(title="Risorse della persona e della rete", min_length=3)
    componenti_nucleo: int = Field(title="Componenti del nucleo familiare", ge=1, le=20)
    isee: Isee = Field(title="Attestazione ISEE")


class Obiettivo(Form):
    model_config = ConfigDict(title="Obiettivo")  # one row of the list: «Obiettivo 1», «Obiettivo 2»

    descrizione: str = Field(title="Descrizione", min_length=3)
    indicatore: str = Field(title="Indicatore", min_length=2)
    target: str = Field(title="Valore atteso", min_length=1)
    peso: Decimal = Field(default=Decimal(1), title="Peso", gt=0, le=10, description=(
        "Quanto conta l'obiettivo rispetto agli altri nella percentuale di raggiungimento del patto: "
        "da più di 0 a 10; 1 se contano tutti allo stesso modo."))


class ImpegnoReciprocita(Form):
    model_config = ConfigDict(title="Impegno di reciprocità")

    attivita: str = Field(title="Attività di restituzione", min_length=3)
    ente_ospitante: str = Field(title="Ente ospitante", min_length=2)
    ore_settimanali: Decimal = Field(title="Ore settimanali", gt=0, le=40)


class MisuraEconomica(Form):
    tipo: Literal["una_tantum", "mensile"] = Field(title="Tipo di erogazione")
    importo: Euro = Field(title="Importo per erogazione (€)", gt=0)
    mensilita: int = Field(default=1, title="Numero di mensilità", ge=1, le=12)
    voci: list[Literal["sostegno_reddito", "utenze", "affitto", "altro"]] = Field(
        title="Voci di spesa", min_length=1,
        description="Una o più: le sceglie l'assistente sociale (nessuna è proposta)."
    )

    def totale(self) -> Decimal:
        return self.importo * (self.mensilita if self.tipo == "mensile" else 1)


class PattoFirmato(Form):
    canale: Literal["progetto", "ulteriore"] = Field(
        title="Canale (progetto Wel(l)FARE Legami o patto ulteriore)", description=(
            "«Progetto Wel(l)FARE Legami»: uno dei patti del progetto (obiettivo annuo di 100); «Patto ulteriore»: "
            "un patto oltre quelli del progetto. Le relazioni li contano separatamente."))
    obiettivi: list[Obiettivo] = Field(title="Obiettivi", min_length=1)
    impegni_reciprocita: list[ImpegnoReciprocita] = Field(title="Impegni di reciprocità", min_length=1)
    misura_economica: MisuraEconomica = Field(title="Misura economica")
    data_inizio: ItalianDate = Field(title="Data di inizio")
    data_fine: ItalianDate = Field(title="Data di fine")
    firmato_il: ItalianDate = Field(title="Data di firma")
    firmatari: list[str] = Field(title="Firmatari (beneficiario e adulti coinvolti)", min_length=1)
    firma_assistente_sociale: Literal[True] = Field(title="Firma dell'assistente sociale")
    informativa_privacy: Literal[True] = Field(title="Informativa privacy presa visione")

    @model_validator(mode="after")
    def end_after_start(self) -> "PattoFirmato":
        if self.data_fine <= self.data_inizio:
            raise ValueError("la data di fine deve seguire la data di inizio")
        return self


class Monitoraggio(Form):
    incontro_il: ItalianDate = Field(title="Data dell'incontro di monitoraggio")
    ore_reciprocita: Decimal = Field(title="Ore di reciprocità svolte nel periodo", ge=0, le=500)
    avanzamento: str = Field(title="Andamento del patto", min_length=3)
    importo_erogato: Euro = Field(default=Decimal(0), title="Importo erogato nel periodo (€)")


class CausaInterruzione(StrEnum):
    INADEMPIENZA = "inadempienza"
    TRASFERIMENTO = "trasferimento"
    DECESSO = "decesso"
    ALTRO = "altro"


class Interruzione(Form):
    causa: CausaInterruzione = Field(title="Causa dell'interruzione")
    diffida_del: ItalianDate | None = Field(default=None, title="Data della diffida scritta")

    @model_validator(mode="after")
    def breach_needs_warning(self) -> "Interruzione":
        if self.causa is CausaInterruzione.INADEMPIENZA and self.diffida_del is None:
            raise ValueError("per inadempienza serve la data della diffida scritta")
        return self


class Verifica(Form):
    raggiungimento: list[Decimal] = Field(
        title="Raggiungimento di ciascun obiettivo (0-1)", min_length=1
    )
    esito: Outcome | None = Field(default=None, title="Esito (se diverso da quello suggerito)")
    motivo_esito: str | None = Field(default=None, title="Motivo dell'esito diverso")
    relazione: str = Field(title="Relazione di verifica", min_length=3)

    @model_validator(mode="after")
    def shares_between_zero_and_one(self) -> "Verifica":
        if any(not (0 <= r <= 1) for r in self.raggiungimento):
            raise ValueError("ogni grado di raggiungimento deve essere tra 0 e 1")
        return self


# --- guards -----------------------------------------------------------------------------------


def _previous_patto_readable(ctx: Context) -> str | None:
    """`patto_precedente` names a patto the actor may read (domain.access's own read rule): an unknown case
    and one out of scope get the same answer, so the field reveals nothing about other sub-ambiti."""
    from domain.access import CaseRef, Principal, can_read_case, is_minor

    case_id = ctx.merged.get("patto_precedente")
    if case_id is None:
        return None
    previous = ctx.world.case(int(case_id))
    refusal = (f"«{Segnalazione.model_fields['patto_precedente'].title}»: il caso {case_id} non esiste, non è "
               "un patto o non è tra quelli che l'utente può consultare")
    if previous is None or previous.case_type != "patto":
        return refusal
    actor, area = ctx.actor, ctx.world.sub_ambito_of(previous.comune_istat) if previous.comune_istat else None
    # the actor's comuni, as far as this case is concerned: its comune if it lies in the actor's sub-ambito
    comuni = frozenset({previous.comune_istat}) if area is not None and area == actor.sub_ambito else frozenset()
    principal = Principal(actor.username, actor.role, actor.sub_ambito, actor.provider_codice, comuni)
    birth = (previous.person or {}).get("data_nascita")
    ref = CaseRef(previous.case_type, previous.comune_istat, area, previous.owner, previous.provider_codice,
                  is_minor(as_date(birth) if birth else None, ctx.effective_on), previous.state, previous.kind)
    return None if can_read_case(principal, ref) else refusal



def _isee_within_local_cap(ctx: Context) -> str | None:
    cap = Decimal(str(ctx.policy.get("patto.isee_massimo")))
    value = Decimal(str(ctx.merged["isee"]["valore"]))
    if value > cap:
        return f"ISEE di {euro(value)} oltre la soglia locale di {euro(cap)}"
    return None


def _amount_within_cap(ctx: Context) -> str | None:
    total = ctx.data.misura_economica.totale()
    cap = Decimal(str(ctx.policy.get("patto.importo_massimo")))
    if total > cap:
        return f"importo complessivo {euro(total)} oltre il tetto del patto ({euro(cap)})"
    return None


def _coordinator_above_threshold(ctx: Context) -> str | None:
    total = ctx.data.misura_economica.totale()
    threshold = Decimal(str(ctx.policy.get("patto.soglia_approvazione_coordinatore")))
    if total > threshold and ctx.actor.role is not R.SUBAREA_COORDINATOR:
        return f"importo {euro(total)} oltre {euro(threshold)}: serve l'approvazione del coordinatore di sub-ambito"
    return None


def _duration_within_limits(ctx: Context) -> str | None:
    months = months_between(ctx.data.data_inizio, ctx.data.data_fine)
    low, high = ctx.policy.get("patto.durata_min_mesi"), ctx.policy.get("patto.durata_max_mesi")
    if not (low <= months <= high):
        return f"la durata del patto deve essere tra {low} e {high} mesi"
    return None


def _not_before_end(ctx: Context) -> str | None:
    end = as_date(ctx.merged["data_fine"])
    if ctx.effective_on < end:
        return f"il patto termina il {end:%d/%m/%Y}: la verifica non può iniziare prima"
    return None


def _one_share_per_objective(ctx: Context) -> str | None:
    expected = len(ctx.merged.get("obiettivi", []))
    if len(ctx.data.raggiungimento) != expected:
        return f"indicare il raggiungimento di ciascuno dei {expected} obiettivi del patto"
    return None


# --- outcome ----------------------------------------------------------------------------------


def realisation_rate(data: dict[str, Any]) -> float:
    """Weighted share of objectives achieved (DOMAIN.md §4)."""
    weights = [float(o.get("peso", 1)) for o in data["obiettivi"]]
    shares = [float(r) for r in data["raggiungimento"]]
    return sum(w * s for w, s in zip(weights, shares)) / sum(weights)


def suggest_outcome(data: dict[str, Any], policy) -> Outcome:
    rate = realisation_rate(data)
    if rate >= float(policy.get("patto.esito_positivo_da")):
        return Outcome.POSITIVE
    if rate >= float(policy.get("patto.esito_parziale_da")):
        return Outcome.PARTIAL
    return Outcome.NEGATIVE


# --- deadlines --------------------------------------------------------------------------------

PRESA_IN_CARICO = DeadlineRule(
    "presa_in_carico", "Presa in carico", "patto.giorni_presa_in_carico", Basis.WORKING,
    Source.CONFIGURED, met_by=("assegna",),
)
ANALISI = DeadlineRule(
    "analisi_preliminare", "Analisi preliminare (dalla segnalazione)", "patto.giorni_analisi",
    Basis.WORKING, Source.CONFIGURED, met_by=("avvia_redazione",), anchor="opened",
)
FIRMA = DeadlineRule(
    "firma_patto", "Firma del patto", "patto.giorni_firma", Basis.WORKING, Source.CONFIGURED,
    met_by=("attiva",),
)
MONITORAGGIO = DeadlineRule(
    "monitoraggio", "Incontro di monitoraggio", "patto.giorni_monitoraggio", Basis.CALENDAR,
    Source.CONFIGURED, met_by=("registra_monitoraggio", "avvia_verifica"),
)
FINE_PATTO = DeadlineRule(
    "fine_patto", "Fine del patto: avvio della verifica", 0, Basis.CALENDAR, Source.CONFIGURED,
    met_by=("avvia_verifica",), anchor="data:data_fine", days_label="alla data di fine", fires="avvia_verifica",
)
SOSPENSIONE = DeadlineRule(
    "sospensione", "Durata massima della sospensione", "patto.giorni_sospensione_max", Basis.CALENDAR,
    Source.CONFIGURED, met_by=("riprendi", "interrompi"),
)
VERIFICA = DeadlineRule(
    "verifica", "Verifica finale", "patto.giorni_verifica", Basis.CALENDAR, Source.CONFIGURED,
    met_by=("chiudi",),
)

WORKER, COORD = R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR

PATTO = Workflow(
    case_type="patto",
    label="Patto gener-attivo",
    description="Aiuto economico legato all'impegno del beneficiario verso la comunità",
    kinds=(("inclusione", "Patto per l'inclusione sociale"), ("autonomia", "Patto per l'autonomia")),
    states=(
        State("REFERRED", "Segnalato"),
        State("INTAKE", "Presa in carico"),
        State("DRAFTING", "Patto in redazione"),
        State("ACTIVE", "Attivo"),
        State("SUSPENDED", "Sospeso", suspended=True),
        State("UNDER_REVIEW", "In verifica"),
        State("CLOSED", "Concluso", terminal=True),
        State("NOT_ADMITTED", "Non ammesso", terminal=True, off_path=True),
        State("ARCHIVED", "Archiviato", terminal=True, off_path=True),
        State("WITHDRAWN", "Rinuncia", terminal=True, off_path=True),
        State("INTERRUPTED", "Interrotto", terminal=True, off_path=True),
    ),
    transitions=(
        Transition("segnala", "Segnalazione", (), "REFERRED", frozenset({WORKER, R.CSC_ADMIN}),
                   data=Segnalazione, starts=(PRESA_IN_CARICO, ANALISI),
                   guards=(Guard("il patto precedente è un patto che l'utente può consultare",
                                 _previous_patto_readable),)),
        Transition("assegna", "Assegnazione e primo colloquio", ("REFERRED",), "INTAKE", frozenset({COORD}),
                   data=Assegnazione, assigns_owner="assegnatario",
                   guards=(assignee_is_social_worker_of_sub_ambito(),
                           not_after_effective("primo_colloquio_il", "Data del primo colloquio"))),
        Transition("archivia", "Archiviazione", ("REFERRED", "INTAKE"), "ARCHIVED", frozenset({WORKER, COORD}),
                   requires_reason=True),
        Transition("non_ammette", "Non ammissione", ("INTAKE",), "NOT_ADMITTED", frozenset({COORD}),
                   data=NonAmmissione, requires_reason=True,
                   guards=(not_after_effective("comunicata_il", "Data di comunicazione"),)),
        Transition("avvia_redazione", "Analisi e avvio della redazione del patto", ("INTAKE",), "DRAFTING",
                   frozenset({WORKER}), data=Valutazione, sets_kind="tipologia", starts=(FIRMA,),
                   guards=(Guard("ISEE entro la soglia locale", _isee_within_local_cap),
                           isee_valid_on_effective_date())),
        Transition("attiva", "Firma e attivazione del patto", ("DRAFTING",), "ACTIVE", frozenset({WORKER, COORD}),
                   data=PattoFirmato, starts=(MONITORAGGIO, FINE_PATTO),
                   guards=(Guard("importo entro il tetto del patto", _amount_within_cap),
                           Guard("oltre la soglia approva il coordinatore", _coordinator_above_threshold),
                           Guard("durata entro i limiti", _duration_within_limits),
                           not_after_effective("firmato_il", "Data di firma"))),
        Transition("registra_monitoraggio", "Monitoraggio", ("ACTIVE",), "ACTIVE", frozenset({WORKER}),
                   data=Monitoraggio, merge_data=False, starts=(MONITORAGGIO,),
                   guards=(not_after_effective("incontro_il", "Data dell'incontro"),)),
        Transition("aggiorna_isee", "Rinnovo dell'ISEE", ("ACTIVE",), "ACTIVE", frozenset({WORKER, R.CSC_ADMIN}),
                   data=AggiornamentoIsee, guards=(Guard("DSU più recente di quella in archivio", newer_isee),
                                                    isee_valid_on_effective_date())),
        Transition("sospendi", "Sospensione (erogazioni ferme)", ("ACTIVE",), "SUSPENDED", frozenset({WORKER}),
                   requires_reason=True, starts=(SOSPENSIONE,)),
        Transition("riprendi", "Ripresa", ("SUSPENDED",), "ACTIVE", frozenset({WORKER})),
        Transition("interrompi", "Interruzione (confermata dal coordinatore)", ("ACTIVE", "SUSPENDED"),
                   "INTERRUPTED", frozenset({COORD}), data=Interruzione, requires_reason=True),
        Transition("rinuncia", "Rinuncia del beneficiario", ("DRAFTING", "ACTIVE"), "WITHDRAWN",
                   frozenset({R.BENEFICIARY, WORKER}), data=Rinuncia),
        Transition("avvia_verifica", "Avvio della verifica a fine patto", ("ACTIVE",), "UNDER_REVIEW",
                   frozenset({R.SYSTEM, WORKER}), automatic=True, starts=(VERIFICA,),
                   guards=(Guard("non prima della data di fine", _not_before_end),)),
        Transition("chiudi", "Verifica ed esito", ("UNDER_REVIEW",), "CLOSED", frozenset({WORKER}),
                   data=Verifica, sets_outcome=True,
                   guards=(Guard("un grado di raggiungimento per obiettivo", _one_share_per_objective),)),
    ),
    outcome=OutcomeRule(
        "tasso di realizzazione ≥ soglia positiva → positivo; ≥ soglia parziale → parziale; altrimenti negativo",
        suggest_outcome,
        measure_field="tasso_realizzazione",
        measure=realisation_rate,
    ),
)
