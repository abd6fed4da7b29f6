"""SAD sperimentazione: provider adhesion and the beneficiary's case, DOMAIN.md §6."""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, computed_field, model_validator

from domain.common import (
    Form,
    Persona,
    Rinuncia,
    euro,
    not_after_effective,
)
from domain.engine import Context
from domain.validation import Euro, ItalianDate
from domain.workflow import Basis, DeadlineRule, Guard, Outcome, OutcomeRule, Role, Source, State
from domain.workflow import Transition, Workflow

R = Role
CSC, UDP, WORKER, PROVIDER = R.CSC_ADMIN, R.PLANNING_OFFICE, R.SOCIAL_WORKER, R.PROVIDER


# ============================== provider adhesion ==============================

ADHESION_ACTIVE = "ACTIVE"  # the adhesion state in which a provider may be chosen (World.provider)


def provider_accredited_for_comune(field: str = "ente") -> Guard:
    def check(ctx: Context) -> str | None:
        codice = str(ctx.merged.get(field))
        provider = ctx.world.provider(codice)
        if provider is None:
            return f"l'ente «{codice}» non è tra gli enti del distretto"
        if provider.adhesion_state != ADHESION_ACTIVE:
            return f"l'ente «{provider.nome}» non è accreditato e attivo per il SAD"
        if ctx.case.comune_istat not in provider.comuni:
            return f"l'ente «{provider.nome}» non serve il comune del beneficiario"
        return None

    return Guard("ente accreditato, attivo e che serve il comune", check)


def actor_is_chosen_provider() -> Guard:
    def check(ctx: Context) -> str | None:
        if ctx.actor.role is Role.PROVIDER and ctx.actor.provider_codice != ctx.case.provider_codice:
            return "l'ente non è quello scelto dal beneficiario"
        return None

    return Guard("ente: solo quello scelto dal beneficiario", check)




class Invito(Form):
    ente: str = Field(title="Ente accreditato", min_length=2)
    inviato_il: ItalianDate = Field(title="Data dell'invito")


class Risposta(Form):
    referente: str = Field(title="Referente dell'ente", min_length=3)
    risposto_il: ItalianDate = Field(title="Data della risposta")


class PattoAccreditamento(Form):
    firmato_il: ItalianDate = Field(title="Data di firma del patto di accreditamento")
    valido_fino: ItalianDate = Field(title="Validità fino al")
    comuni: list[str] = Field(title="Comuni serviti (codici ISTAT)", min_length=1)

    @model_validator(mode="after")
    def validity_after_signature(self) -> "PattoAccreditamento":
        if self.valido_fino <= self.firmato_il:
            raise ValueError("la validità deve terminare dopo la firma")
        return self


class Rinnovo(Form):
    verificato_il: ItalianDate = Field(title="Data della verifica annuale")
    valido_fino: ItalianDate = Field(title="Nuova validità fino al")


def _provider_exists(ctx: Context) -> str | None:
    codice = str(ctx.merged["ente"])
    return None if ctx.world.provider(codice) else f"l'ente «{codice}» non è tra gli enti del distretto"


def _comuni_in_district(ctx: Context) -> str | None:
    unknown = [c for c in ctx.data.comuni if ctx.world.sub_ambito_of(c) is None]
    return f"comuni non appartenenti all'ambito: {', '.join(unknown)}" if unknown else None


RISPOSTA = DeadlineRule("risposta_ente", "Risposta dell'ente all'invito", "sad.giorni_risposta_ente",
                        Basis.CALENDAR, Source.CONFIGURED, met_by=("rispondi", "declina"))
FIRMA_PATTO = DeadlineRule("firma_patto_accreditamento", "Firma del patto di accreditamento",
                           "sad.giorni_firma_patto_ente", Basis.CALENDAR, Source.CONFIGURED, met_by=("firma",))
SCADENZA = DeadlineRule("scadenza_accreditamento", "Verifica annuale dell'accreditamento", 0, Basis.CALENDAR,
                        Source.CONFIGURED, met_by=("rinnova", "scade"), anchor="data:valido_fino",
                        days_label="alla scadenza della validità", fires="scade", fires_after_days=1)

ADESIONE = Workflow(
    case_type="sad_adesione",
    label="Adesione dell'ente al SAD",
    description="L'adesione di un ente accreditato alla sperimentazione SAD",
    district_level=True,
    has_person=False,
    states=(
        State("INVITED", "Invitato"),
        State("ANSWERED", "Ha risposto"),
        State("PACT_SIGNED", "Patto firmato"),
        State("ACTIVE", "Attivo"),
        State("SUSPENDED", "Sospeso", suspended=True),
        State("DECLINED", "Non aderente", terminal=True, off_path=True),
        State("REVOKED", "Revocato", terminal=True, off_path=True),
        State("EXPIRED", "Scaduto", terminal=True, off_path=True),
    ),
    transitions=(
        Transition("invita", "Invito all'adesione", (), "INVITED", frozenset({CSC}), data=Invito,
                   starts=(RISPOSTA,), guards=(Guard("ente del distretto", _provider_exists),)),
        Transition("rispondi", "Risposta dell'ente", ("INVITED",), "ANSWERED", frozenset({CSC, PROVIDER}),
                   data=Risposta, starts=(FIRMA_PATTO,)),
        Transition("declina", "L'ente non aderisce", ("INVITED", "ANSWERED"), "DECLINED",
                   frozenset({CSC, PROVIDER}), requires_reason=True),
        Transition("firma", "Firma del patto di accreditamento", ("ANSWERED",), "PACT_SIGNED", frozenset({CSC}),
                   data=PattoAccreditamento, starts=(SCADENZA,),
                   guards=(Guard("comuni dell'ambito", _comuni_in_district),
                           not_after_effective("firmato_il", "Data di firma"))),
        Transition("attiva", "Avvio del servizio", ("PACT_SIGNED",), "ACTIVE", frozenset({CSC, R.SYSTEM})),
        Transition("rinnova", "Verifica annuale e rinnovo", ("ACTIVE",), "ACTIVE", frozenset({CSC}),
                   data=Rinnovo, starts=(SCADENZA,)),
        Transition("sospendi", "Sospensione", ("ACTIVE",), "SUSPENDED", frozenset({CSC, UDP}),
                   requires_reason=True),
        Transition("riattiva", "Riattivazione", ("SUSPENDED",), "ACTIVE", frozenset({CSC, UDP})),
        Transition("revoca", "Revoca", ("ACTIVE", "SUSPENDED", "PACT_SIGNED"), "REVOKED", frozenset({CSC, UDP}),
                   requires_reason=True),
        Transition("scade", "Scadenza", ("ACTIVE",), "EXPIRED", frozenset({CSC, R.SYSTEM}), automatic=True),
    ),
)


# ============================== the beneficiary's SAD case ==============================


class FonteSad(StrEnum):
    CITTADINO = "cittadino"
    MEDICO = "medico_di_base"
    DIMISSIONE_PROTETTA = "dimissione_protetta"
    SERVIZI = "servizi_sociali"


class Servizio(StrEnum):
    IGIENE = "igiene_personale"
    PASTI = "pasti"
    AMBIENTE = "cura_ambiente"
    ACCOMPAGNAMENTO = "accompagnamento"
    SOCIALIZZAZIONE = "socializzazione"


class SegnalazioneSad(Form):
    persona: Persona = Field(title="Persona segnalata")
    fonte: FonteSad = Field(title="Fonte della segnalazione")
    urgente: bool = Field(default=False, title="Urgente")


class ValutazioneSad(Form):
    visita_domiciliare_il: ItalianDate = Field(title="Data della visita domiciliare")
    adl: int = Field(title="ADL (funzioni perse, 0-6)", ge=0, le=6)
    iadl: int = Field(title="IADL (funzioni perse, 0-8)", ge=0, le=8)
    isee_valore: Euro | None = Field(default=None, title="Valore ISEE per la compartecipazione (€)")


class Pai(Form):
    obiettivi: list[str] = Field(title="Obiettivi del PAI", min_length=1)
    servizi: list[Servizio] = Field(title="Prestazioni", min_length=1)
    ore_settimanali: Decimal = Field(title="Ore settimanali", gt=0, le=40)
    revisione_il: ItalianDate = Field(title="Data prevista di revisione")


class SceltaEnte(Form):
    ente: str = Field(title="Ente scelto", min_length=2)
    modulo_firmato_il: ItalianDate = Field(title="Data del modulo di scelta firmato")


class Voucher(Form):
    ore_mensili: Decimal = Field(title="Ore mensili", gt=0, le=200)
    tariffa_oraria: Euro = Field(title="Tariffa oraria (€)", gt=0)
    quota_utente: Euro = Field(default=Decimal(0), title="Quota a carico dell'utente (€ al mese)")
    valido_dal: ItalianDate = Field(title="Valido dal")
    valido_al: ItalianDate = Field(title="Valido al")

    @model_validator(mode="after")
    def period_is_ordered(self) -> "Voucher":
        if self.valido_al <= self.valido_dal:
            raise ValueError("la validità del voucher deve terminare dopo l'inizio")
        return self


class Visita(Form):
    model_config = ConfigDict(title="Visita")  # one row of a list: «Visita 1»

    data: ItalianDate = Field(title="Data della visita")
    operatore: str = Field(title="Operatore", min_length=2)
    minuti: int = Field(title="Durata (minuti)", gt=0, le=720)
    servizi: list[Servizio] = Field(title="Prestazioni", min_length=1)


class PrimaVisita(Form):
    visita: Visita = Field(title="Prima visita")

    @computed_field(title="Ore erogate")
    @property
    def ore(self) -> float:
        return round(self.visita.minuti / 60, 2)


class RegistroMensile(Form):
    mese: ItalianDate = Field(title="Mese (primo giorno)")
    visite: list[Visita] = Field(title="Visite", min_length=1)

    @model_validator(mode="after")
    def visits_in_month(self) -> "RegistroMensile":
        wrong = [v.data for v in self.visite if (v.data.year, v.data.month) != (self.mese.year, self.mese.month)]
        if wrong:
            raise ValueError(f"visite fuori dal mese indicato: {', '.join(f'{d:%d/%m/%Y}' for d in wrong)}")
        return self

    @computed_field(title="Ore erogate nel mese")
    @property
    def ore(self) -> float:
        return round(sum(v.minuti for v in self.visite) / 60, 2)


class RevisionePai(Form):
    esito_revisione: str = Field(title="Esito della revisione", min_length=3)
    ore_settimanali: Decimal | None = Field(default=None, title="Nuove ore settimanali", gt=0, le=40)


class CambioEnte(Form):
    ente: str = Field(title="Nuovo ente scelto", min_length=2)
    modulo_firmato_il: ItalianDate = Field(title="Data del modulo di scelta firmato")


class VerificaSad(Form):
    obiettivi_raggiunti: int = Field(title="Obiettivi del PAI raggiunti", ge=0)
    esito: Outcome | None = Field(default=None, title="Esito (se diverso da quello suggerito)")
    motivo_esito: str | None = Field(default=None, title="Motivo dell'esito diverso")


def _visits_not_after_step(ctx: Context) -> str | None:
    visits = [ctx.data.visita] if isinstance(ctx.data, PrimaVisita) else ctx.data.visite
    late = [v.data for v in visits if v.data > ctx.effective_on]
    return f"visite successive alla data del passo: {', '.join(f'{d:%d/%m/%Y}' for d in late)}" if late else None


def _rate_within_policy(ctx: Context) -> str | None:
    cap = Decimal(str(ctx.policy.get("sad.tariffa_oraria_massima")))
    rate = ctx.data.tariffa_oraria
    return f"tariffa {euro(rate)} oltre la massima di {euro(cap)}" if rate > cap else None


def _different_provider(ctx: Context) -> str | None:
    return "il nuovo ente coincide con l'attuale" if ctx.data.ente == ctx.case.provider_codice else None


def _objectives_not_more_than_planned(ctx: Context) -> str | None:
    planned = len(ctx.merged.get("obiettivi", []))
    return f"il PAI ha {planned} obiettivi" if ctx.data.obiettivi_raggiunti > planned else None


def _urgent_days(normal_key: str, urgent_key: str):
    def days(ctx: Context) -> int:
        key = urgent_key if ctx.merged.get("urgente") else normal_key
        return int(ctx.policy.get(key))

    return days


def sad_share(data: dict[str, Any]) -> float:
    planned = len(data.get("obiettivi", [])) or 1
    return int(data.get("obiettivi_raggiunti", 0)) / planned


def sad_outcome(data: dict[str, Any], policy) -> Outcome:
    share = sad_share(data)
    if share >= float(policy.get("sad.esito_positivo_da")):
        return Outcome.POSITIVE
    return Outcome.PARTIAL if share > 0 else Outcome.NEGATIVE


VALUTAZIONE = DeadlineRule("valutazione", "Visita domiciliare e valutazione",
                           _urgent_days("sad.giorni_valutazione", "sad.giorni_valutazione_urgente"),
                           Basis.WORKING, Source.CONFIGURED, met_by=("valuta",),
                           days_label="10 gg lavorativi (2 se urgente)")
PAI = DeadlineRule("pai", "Redazione del PAI", "sad.giorni_pai", Basis.WORKING, Source.CONFIGURED,
                   met_by=("redigi_pai",))
PRIMA_VISITA = DeadlineRule("prima_visita", "Prima visita dell'ente",
                            _urgent_days("sad.giorni_prima_visita", "sad.giorni_prima_visita_urgente"),
                            Basis.WORKING, Source.CONFIGURED, met_by=("prima_visita",),
                            days_label="5 gg lavorativi (2 se urgente)")
PRIMA_REVISIONE = DeadlineRule("revisione_pai", "Revisione del PAI", "sad.giorni_prima_revisione",
                               Basis.CALENDAR, Source.CONFIGURED, met_by=("avvia_revisione",))
REVISIONE = DeadlineRule("revisione_pai", "Revisione del PAI", "sad.giorni_revisione",
                         Basis.CALENDAR, Source.CONFIGURED, met_by=("avvia_revisione",))
RIVALUTAZIONE = DeadlineRule("rivalutazione_sospensione", "Rivalutazione dopo la sospensione",
                             "sad.giorni_rivalutazione_sospensione", Basis.CALENDAR, Source.CONFIGURED,
                             met_by=("riprendi", "interrompi"))
VERIFICA_SAD = DeadlineRule("verifica", "Verifica finale", "sad.giorni_verifica", Basis.CALENDAR,
                            Source.CONFIGURED, met_by=("chiudi",))

BEFORE_ACTIVE = ("REFERRED", "ASSESSMENT", "CAREPLAN_DRAFT", "PROVIDER_CHOSEN", "VOUCHER_ISSUED")

CASO = Workflow(
    case_type="sad_caso",
    label="SAD sperimentazione",
    description="Assistenza domiciliare con voucher presso enti accreditati",
    states=(
        State("REFERRED", "Segnalato"),
        State("ASSESSMENT", "Valutato"),
        State("CAREPLAN_DRAFT", "PAI redatto"),
        State("PROVIDER_CHOSEN", "Ente scelto"),
        State("VOUCHER_ISSUED", "Voucher emesso"),
        State("ACTIVE", "Attivo"),
        State("REVIEW", "Revisione del PAI"),
        State("PROVIDER_CHANGE", "Cambio ente"),
        State("SUSPENDED", "Sospeso", suspended=True),
        State("UNDER_REVIEW", "In verifica"),
        State("CLOSED", "Concluso", terminal=True),
        State("NOT_ADMITTED", "Non ammesso", terminal=True, off_path=True),
        State("WITHDRAWN", "Rinuncia", terminal=True, off_path=True),
        State("INTERRUPTED", "Interrotto", terminal=True, off_path=True),
        State("ARCHIVED", "Archiviato", terminal=True, off_path=True),
    ),
    transitions=(
        Transition("segnala", "Segnalazione", (), "REFERRED", frozenset({WORKER}), data=SegnalazioneSad,
                   owner_is_actor=True, starts=(VALUTAZIONE,)),
        Transition("valuta", "Visita domiciliare e valutazione", ("REFERRED",), "ASSESSMENT",
                   frozenset({WORKER}), data=ValutazioneSad, starts=(PAI,),
                   guards=(not_after_effective("visita_domiciliare_il", "Data della visita"),)),
        Transition("redigi_pai", "Redazione del PAI", ("ASSESSMENT",), "CAREPLAN_DRAFT", frozenset({WORKER}),
                   data=Pai),
        Transition("scegli_ente", "Scelta dell'ente", ("CAREPLAN_DRAFT",), "PROVIDER_CHOSEN",
                   frozenset({R.BENEFICIARY, WORKER}), data=SceltaEnte, guards=(provider_accredited_for_comune(),)),
        Transition("emetti_voucher", "Emissione del voucher", ("PROVIDER_CHOSEN", "PROVIDER_CHANGE"),
                   "VOUCHER_ISSUED", frozenset({CSC}), data=Voucher, starts=(PRIMA_VISITA,),
                   guards=(Guard("tariffa entro la massima", _rate_within_policy),)),
        Transition("prima_visita", "Prima visita", ("VOUCHER_ISSUED",), "ACTIVE", frozenset({PROVIDER}),
                   data=PrimaVisita, merge_data=False, starts=(PRIMA_REVISIONE,),
                   guards=(actor_is_chosen_provider(), Guard("visite non future", _visits_not_after_step))),
        Transition("registra_visite", "Registro mensile delle visite", ("ACTIVE",), "ACTIVE",
                   frozenset({PROVIDER}), data=RegistroMensile, merge_data=False,
                   guards=(actor_is_chosen_provider(), Guard("visite non future", _visits_not_after_step))),
        Transition("avvia_revisione", "Revisione del PAI", ("ACTIVE",), "REVIEW", frozenset({WORKER})),
        Transition("conferma_pai", "PAI confermato o aggiornato", ("REVIEW",), "ACTIVE", frozenset({WORKER}),
                   data=RevisionePai, starts=(REVISIONE,)),
        Transition("avvia_verifica", "Avvio della verifica finale", ("REVIEW",), "UNDER_REVIEW",
                   frozenset({WORKER}), starts=(VERIFICA_SAD,)),
        Transition("cambia_ente", "Cambio ente (voucher chiuso a fine mese)", ("ACTIVE",), "PROVIDER_CHANGE",
                   frozenset({R.BENEFICIARY, WORKER}), data=CambioEnte,
                   guards=(provider_accredited_for_comune(), Guard("ente diverso dall'attuale", _different_provider))),
        Transition("sospendi", "Sospensione (ricovero)", ("ACTIVE",), "SUSPENDED", frozenset({WORKER, PROVIDER}),
                   requires_reason=True, starts=(RIVALUTAZIONE,), guards=(actor_is_chosen_provider(),)),
        Transition("riprendi", "Ripresa del servizio", ("SUSPENDED",), "ACTIVE", frozenset({WORKER})),
        Transition("non_ammette", "Non ammissione", ("REFERRED", "ASSESSMENT"), "NOT_ADMITTED",
                   frozenset({WORKER}), requires_reason=True),
        Transition("rinuncia", "Rinuncia", (*BEFORE_ACTIVE, "ACTIVE", "SUSPENDED"), "WITHDRAWN",
                   frozenset({R.BENEFICIARY, WORKER}), data=Rinuncia),
        Transition("interrompi", "Interruzione", ("ACTIVE", "SUSPENDED"), "INTERRUPTED", frozenset({WORKER}),
                   requires_reason=True),
        Transition("archivia", "Archiviazione", ("REFERRED", "ASSESSMENT"), "ARCHIVED", frozenset({WORKER}),
                   requires_reason=True),
        Transition("chiudi", "Verifica ed esito", ("UNDER_REVIEW",), "CLOSED", frozenset({WORKER}),
                   data=VerificaSad, sets_outcome=True,
                   guards=(Guard("obiettivi raggiunti non oltre quelli del PAI", _objectives_not_more_than_planned),)),
    ),
    outcome=OutcomeRule("quota di obiettivi del PAI raggiunti ≥ soglia → positivo; > 0 → parziale",
                        sad_outcome, measure_field="quota_obiettivi", measure=sad_share),
)
