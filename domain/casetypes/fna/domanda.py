"""FNA Misura B2: the application (domanda), DOMAIN.md §5c."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from domain.casetypes.fna import ranking as rk
from domain.casetypes.fna.bando import CSC, UDP, WORKER, Misura, R
from domain.common import (
    AggiornamentoIsee,
    Form,
    Persona,
    Rinuncia,
    age_on,
    as_date,
    euro,
    isee_valid_on_effective_date,
    newer_isee,
    not_after_effective,
)
from domain.engine import Context
from domain.person import real_incompatibility_guard
from domain.validation import Euro, Iban, Isee, IseeType, ItalianDate
from domain.workflow import Basis, DeadlineRule, Guard, Outcome, OutcomeRule, Source, State
from domain.workflow import Transition, Workflow


# ============================== the application (domanda) ==============================

# A protocol number: letters and digits in groups joined by "-" or "/" (CSC-2026-0042, 2026/0457), 3-30
# characters, starting with a letter or a digit. It is shown in the public ranking and its CSV, so nothing a
# spreadsheet or a page could run (a leading `=`, `+`, `-`, `@`; spaces, quotes, brackets) fits.
PROTOCOL_RE = re.compile(r"[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*")
PROTOCOL_MAX = 30


def _protocol_number(value: str) -> str:
    if not (3 <= len(value) <= PROTOCOL_MAX and PROTOCOL_RE.fullmatch(value)):
        raise ValueError(f"da 3 a {PROTOCOL_MAX} caratteri: lettere e cifre, "
                         "separate da «-» o «/» (es. CSC-2026-0042)")
    return value


ProtocolNumber = Annotated[str, AfterValidator(_protocol_number)]



class Domanda(Form):
    persona: Persona = Field(title="Beneficiario")
    protocollo: ProtocolNumber = Field(title="Numero di protocollo")
    isee: Isee = Field(title="Attestazione ISEE")
    invalidita_104_art3c3: bool = Field(title="Disabilità grave (L. 104/92 art. 3 c. 3)")
    indennita_accompagnamento: bool = Field(title="Indennità di accompagnamento")
    misura: Misura = Field(title="Misura richiesta")
    caregiver: str | None = Field(default=None, title="Caregiver familiare")
    assistente_personale: str | None = Field(default=None, title="Assistente personale")
    vive_solo: bool = Field(default=False, title="Vive solo o senza caregiver")
    iban: Iban = Field(title="IBAN per l'accredito")
    altre_misure: list[str] = Field(default_factory=list, title="Altre misure in corso")


class Integrazioni(Form):
    documenti_mancanti: list[str] = Field(title="Documenti mancanti", min_length=1)


class ValutazioneFna(Form):
    scala: str = Field(default="ADL/IADL", title="Scala di valutazione")
    adl: int = Field(title="Punteggio ADL (funzioni perse, 0-6)", ge=0, le=6)
    iadl: int = Field(title="Punteggio IADL (funzioni perse, 0-8)", ge=0, le=8)
    misura_proposta: Misura = Field(title="Misura proposta")
    importo_mensile_proposto: Euro = Field(title="Importo mensile proposto (€)", gt=0)


class PreavvisoRigetto(Form):
    motivi: list[str] = Field(title="Motivi ostativi", min_length=1)
    comunicato_il: ItalianDate = Field(title="Data di comunicazione del preavviso")


class Rigetto(Form):
    osservazioni_ricevute: bool = Field(default=False, title="Osservazioni ricevute")
    esame_osservazioni: str | None = Field(default=None, title="Esame delle osservazioni")

    @model_validator(mode="after")
    def observations_are_answered(self) -> "Rigetto":
        if self.osservazioni_ricevute and not self.esame_osservazioni:
            raise ValueError("le osservazioni ricevute vanno esaminate nel provvedimento")
        return self


class Finanziamento(Form):
    importo_annuo: Euro = Field(title="Importo annuo impegnato (€)", gt=0)


class PianoFna(Form):
    misura: Misura = Field(title="Misura")
    importo_mensile: Euro = Field(title="Importo mensile (€)", gt=0)
    mese_inizio: ItalianDate = Field(title="Mese di avvio")
    obblighi: str = Field(title="Obblighi del beneficiario", min_length=3)
    contratto_assistente: bool = Field(default=False, title="Contratto dell'assistente personale depositato")

    @model_validator(mode="after")
    def assistant_needs_contract(self) -> "PianoFna":
        if self.misura is Misura.ASSISTENTE_PERSONALE and not self.contratto_assistente:
            raise ValueError("la misura assistente personale richiede il contratto di lavoro")
        return self


class Pagamento(Form):
    mese: ItalianDate = Field(title="Mese di competenza")
    importo: Euro = Field(title="Importo pagato (€)", gt=0)
    contributi_inps_verificati: bool = Field(default=False, title="Contributi INPS del periodo verificati")


class CausaDecadenza(StrEnum):
    DECESSO = "decesso"
    TRASFERIMENTO = "trasferimento"
    RICOVERO_DEFINITIVO = "ricovero_definitivo"
    MISURA_INCOMPATIBILE = "misura_incompatibile"
    ISEE_NON_RINNOVATO = "isee_non_rinnovato"


class Decadenza(Form):
    causa: CausaDecadenza = Field(title="Causa della decadenza")
    dal: ItalianDate = Field(title="Con effetto dal")


class VerificaFna(Form):
    mesi_erogati: int = Field(title="Mesi erogati", ge=0, le=24)
    importo_erogato: Euro = Field(title="Importo complessivamente erogato (€)")
    piano_rispettato: bool = Field(title="Piano rispettato")
    esito: Outcome | None = Field(default=None, title="Esito (se diverso da quello suggerito)")
    motivo_esito: str | None = Field(default=None, title="Motivo dell'esito diverso")


def _call(ctx: Context):
    call = ctx.world.case(ctx.case.related_case_id) if ctx.case.related_case_id else None
    return call if call is not None and call.case_type == "fna_bando" else None


def _call_open_and_in_window(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None:
        return "indicare un bando FNA esistente"
    if call.state != "OPEN":
        return "il bando non è aperto"
    opens, closes = as_date(call.data["apertura"]), as_date(call.data["chiusura"])
    if not (opens <= ctx.effective_on <= closes):
        return f"domanda fuori dai termini del bando ({opens:%d/%m/%Y}–{closes:%d/%m/%Y})"
    return None


def _measure(ctx: Context) -> str:
    """The measure at stake: the plan's, else the one proposed by the assessment, else the one applied for."""
    if isinstance(ctx.data, PianoFna):
        return ctx.data.misura.value
    return ctx.merged.get("misura_proposta") or ctx.merged["misura"]


def _measure_offered(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None:
        return None  # reported by the guard on the call itself
    offered = {m["misura"] for m in call.data.get("misure", [])}
    measure = _measure(ctx)
    return None if measure in offered else f"il bando non prevede la misura «{measure}»"


def _has_disability_requirement(ctx: Context) -> str | None:
    if ctx.merged["invalidita_104_art3c3"] or ctx.merged["indennita_accompagnamento"]:
        return None
    return "manca il requisito: disabilità grave (L. 104/92 art. 3 c. 3) o indennità di accompagnamento"


def _isee_within_call_cap(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None:
        return "indicare un bando FNA esistente"
    isee = ctx.merged["isee"]
    person = ctx.case.person or {}
    minor = "data_nascita" in person and age_on(as_date(person["data_nascita"]), ctx.effective_on) < 18
    wanted = IseeType.MINORENNI if minor else IseeType.SOCIOSANITARIO
    accepted = {IseeType.ORDINARIO.value, IseeType.MINORENNI.value} if minor else {wanted.value}
    if isee["tipo"] not in accepted:
        return f"serve un ISEE {wanted.value}"
    cap = Decimal(str(call.data["isee_max_minori" if minor else "isee_max_adulti"]))
    value = Decimal(str(isee["valore"]))
    return f"ISEE di {euro(value)} oltre la soglia del bando ({euro(cap)})" if value > cap else None


def _no_incompatible_measure(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None:
        return "indicare un bando FNA esistente"
    banned = {m.lower() for m in call.data.get("incompatibilita", [])}
    clash = [m for m in ctx.merged.get("altre_misure", []) if m.lower() in banned]
    return f"misura incompatibile in corso: {', '.join(clash)}" if clash else None


def _amount_within_measure(field: str):
    def check(ctx: Context) -> str | None:
        call = _call(ctx)
        if call is None:
            return "indicare un bando FNA esistente"
        measure = _measure(ctx)
        rows = [m for m in call.data.get("misure", []) if m["misura"] == measure]
        if not rows:
            return None  # reported once, by the "misura prevista dal bando" guard
        low, high = Decimal(str(rows[0]["importo_min"])), Decimal(str(rows[0]["importo_max"]))
        amount = Decimal(str(getattr(ctx.data, field)))
        if not (low <= amount <= high):
            return f"importo mensile {euro(amount)} fuori dal range della misura ({euro(low)}–{euro(high)})"
        return None

    return Guard("importo entro il range della misura del bando", check)


def _ranking_final(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None or call.state not in ("RANKING_FINAL", "DISBURSING"):
        return "la graduatoria definitiva del bando non è ancora approvata"
    return None


def _budget_available(ctx: Context) -> str | None:
    call = _call(ctx)
    if call is None:
        return "indicare un bando FNA esistente"
    budget = Decimal(str(call.data["budget"]))
    residual = budget - ctx.world.committed_on_call(call.id)
    amount = ctx.data.importo_annuo
    return f"budget del bando insufficiente: residuo {euro(residual)}" if amount > residual else None


def _ranking_order(ctx: Context) -> str | None:
    """Funding follows the ranking: refused while a better-ranked application of the call is neither funded
    nor out of the ranking (withdrawn, lapsed). Withdrawals and lapses free their place (scorrimento)."""
    call = _call(ctx)
    if call is None:
        return "indicare un bando FNA esistente"
    ahead = rk.waiting_ahead(rk.ranking_of_call(ctx.world, call, ctx.case), ctx.case.id)
    if ahead is None:
        return None
    return (f"la graduatoria va seguita: la domanda {ahead.protocollo} (posizione {ahead.posizione}) la precede "
            "e non è ancora finanziata né uscita dalla graduatoria")


OBSERVATION_DAYS = 10  # art. 10-bis L. 241/90: the days to send observations after the notice (and its act)


def _observation_term_elapsed(ctx: Context) -> str | None:
    notified = as_date(ctx.merged["comunicato_il"])
    if ctx.data.osservazioni_ricevute:
        return None
    ends = notified + timedelta(days=OBSERVATION_DAYS)
    if ctx.effective_on <= ends:
        return f"i 10 giorni per le osservazioni (art. 10-bis L. 241/90) scadono il {ends:%d/%m/%Y}"
    return None


def _contributions_checked_for_assistant(ctx: Context) -> str | None:
    if ctx.merged.get("misura") == Misura.ASSISTENTE_PERSONALE.value and not ctx.data.contributi_inps_verificati:
        return "per l'assistente personale vanno verificati i contributi INPS del periodo"
    return None


def fna_outcome(data: dict[str, Any], policy) -> Outcome:
    if data.get("piano_rispettato"):
        return Outcome.POSITIVE
    return Outcome.PARTIAL if int(data.get("mesi_erogati", 0)) > 0 else Outcome.NEGATIVE


INTEGRAZIONI = DeadlineRule("integrazioni", "Risposta al soccorso istruttorio", "fna.giorni_integrazioni",
                            Basis.CALENDAR, Source.CONFIGURED, met_by=("ricevi_integrazioni", "archivia"),
                            fires="archivia", fires_after_days=1)
# art. 10-bis L. 241/90: 10 days for the applicant's observations interrupt the term, which then restarts
OSSERVAZIONI = DeadlineRule("esito_preavviso", "Decisione dopo il preavviso di rigetto", 40, Basis.CALENDAR,
                            Source.STATUTORY, met_by=("rigetta", "accogli_osservazioni"),
                            days_label="10 giorni per le osservazioni + 30 (art. 10-bis L. 241/90)")
def _application_term(ctx: Context) -> int:
    call = _call(ctx)
    return int(call.data.get("giorni_esito", 30)) if call else 30


ESITO = DeadlineRule("esito_finanziamento", "Esito sul finanziamento", _application_term,
                     Basis.CALENDAR, Source.STATUTORY, met_by=("finanzia", "non_finanzia"),
                     days_label="30 giorni (L. 241/90) o i termini del bando")
PIANO = DeadlineRule("piano", "Firma del piano individuale", "fna.giorni_piano", Basis.CALENDAR,
                     Source.CONFIGURED, met_by=("firma_piano",))
VERIFICA_FNA = DeadlineRule("verifica", "Verifica finale", "fna.giorni_verifica", Basis.CALENDAR,
                            Source.CONFIGURED, met_by=("chiudi",))

OPEN_STATES = ("SUBMITTED", "ADMIN_CHECK", "INFO_REQUESTED", "ASSESSMENT", "ELIGIBLE", "REJECTION_NOTICE",
               "NOT_FUNDED", "FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW")

DOMANDA = Workflow(
    case_type="fna_domanda",
    label="Domanda FNA Misura B2",
    description="Domanda di accesso alla Misura B2 su bando pubblico",
    states=(
        State("SUBMITTED", "Presentata"),
        State("ADMIN_CHECK", "Istruttoria"),
        State("INFO_REQUESTED", "Soccorso istruttorio"),
        State("ASSESSMENT", "Valutazione"),
        State("ELIGIBLE", "Ammessa"),
        State("REJECTION_NOTICE", "Preavviso di rigetto"),
        State("NOT_FUNDED", "Ammessa non finanziata"),
        State("FUNDED", "Finanziata"),
        State("PLAN_SIGNED", "Piano firmato"),
        State("DISBURSING", "In erogazione"),
        State("SUSPENDED", "Sospesa", suspended=True),
        State("UNDER_REVIEW", "In verifica"),
        State("CLOSED", "Conclusa", terminal=True),
        State("NOT_ADMITTED", "Non ammessa", terminal=True, off_path=True),
        State("LAPSED", "Decaduta", terminal=True, off_path=True),
        State("ARCHIVED", "Archiviata", terminal=True, off_path=True),
        State("WITHDRAWN", "Rinuncia", terminal=True, off_path=True),
    ),
    transitions=(
        Transition("presenta", "Presentazione (protocollo)", (), "SUBMITTED", frozenset({CSC, R.BENEFICIARY}),
                   data=Domanda, guards=(Guard("bando aperto e domanda nei termini", _call_open_and_in_window),
                                         Guard("misura prevista dal bando", _measure_offered))),
        Transition("avvia_istruttoria", "Avvio dell'istruttoria", ("SUBMITTED",), "ADMIN_CHECK",
                   frozenset({CSC})),
        Transition("richiedi_integrazioni", "Soccorso istruttorio", ("ADMIN_CHECK",), "INFO_REQUESTED",
                   frozenset({CSC}), data=Integrazioni, starts=(INTEGRAZIONI,)),
        Transition("ricevi_integrazioni", "Integrazioni ricevute", ("INFO_REQUESTED",), "ADMIN_CHECK",
                   frozenset({CSC})),
        Transition("archivia", "Archiviazione per mancata risposta", ("INFO_REQUESTED",), "ARCHIVED",
                   frozenset({CSC, R.SYSTEM}), requires_reason=True, automatic=True),
        Transition("avvia_valutazione", "Invio alla valutazione", ("ADMIN_CHECK",), "ASSESSMENT",
                   frozenset({CSC})),
        Transition("ammetti", "Valutazione: ammessa", ("ASSESSMENT",), "ELIGIBLE",
                   frozenset({WORKER, R.HEALTH_ASSESSOR}), data=ValutazioneFna, starts=(ESITO,),
                   guards=(Guard("disabilità grave o accompagnamento", _has_disability_requirement),
                           Guard("ISEE entro la soglia del bando", _isee_within_call_cap),
                           isee_valid_on_effective_date(),
                           Guard("nessuna misura incompatibile", _no_incompatible_measure),
                           real_incompatibility_guard(),
                           Guard("misura prevista dal bando", _measure_offered),
                           _amount_within_measure("importo_mensile_proposto"))),
        Transition("preavviso_rigetto", "Preavviso di rigetto", ("ADMIN_CHECK", "ASSESSMENT"),
                   "REJECTION_NOTICE", frozenset({UDP}), data=PreavvisoRigetto, starts=(OSSERVAZIONI,)),
        Transition("accogli_osservazioni", "Osservazioni accolte", ("REJECTION_NOTICE",), "ASSESSMENT",
                   frozenset({UDP}), requires_reason=True),
        Transition("rigetta", "Non ammissione", ("REJECTION_NOTICE",), "NOT_ADMITTED", frozenset({UDP}),
                   data=Rigetto, guards=(Guard("decorsi i 10 giorni o esaminate le osservazioni",
                                               _observation_term_elapsed),)),
        Transition("finanzia", "Finanziamento", ("ELIGIBLE", "NOT_FUNDED"), "FUNDED", frozenset({UDP}),
                   data=Finanziamento, starts=(PIANO,),
                   guards=(Guard("graduatoria definitiva approvata", _ranking_final),
                           Guard("nell'ordine della graduatoria", _ranking_order),
                           Guard("budget residuo sufficiente", _budget_available))),
        Transition("non_finanzia", "Non finanziata (esaurimento risorse)", ("ELIGIBLE",), "NOT_FUNDED",
                   frozenset({UDP}), guards=(Guard("graduatoria definitiva approvata", _ranking_final),)),
        Transition("firma_piano", "Firma del piano individuale", ("FUNDED",), "PLAN_SIGNED",
                   frozenset({WORKER}), data=PianoFna,
                   guards=(Guard("misura prevista dal bando", _measure_offered),
                           _amount_within_measure("importo_mensile"))),
        Transition("avvia_erogazione", "Avvio dell'erogazione", ("PLAN_SIGNED",), "DISBURSING",
                   frozenset({CSC})),
        Transition("registra_pagamento", "Pagamento mensile", ("DISBURSING",), "DISBURSING", frozenset({CSC}),
                   data=Pagamento, merge_data=False,
                   guards=(not_after_effective("mese", "Mese di competenza"),
                           Guard("contributi INPS per l'assistente personale", _contributions_checked_for_assistant),)),
        Transition("aggiorna_isee", "Rinnovo dell'ISEE", ("DISBURSING",), "DISBURSING", frozenset({CSC, WORKER}),
                   data=AggiornamentoIsee, guards=(Guard("DSU più recente di quella in archivio", newer_isee),
                                                    isee_valid_on_effective_date(),
                                                    Guard("ISEE entro la soglia del bando", _isee_within_call_cap))),
        Transition("sospendi", "Sospensione (ricovero o sollievo)", ("DISBURSING",), "SUSPENDED",
                   frozenset({WORKER}), requires_reason=True),
        Transition("riprendi", "Ripresa dell'erogazione", ("SUSPENDED",), "DISBURSING", frozenset({WORKER})),
        Transition("decadenza", "Decadenza", ("DISBURSING", "SUSPENDED"), "LAPSED",
                   frozenset({WORKER, R.SYSTEM}), data=Decadenza),
        Transition("avvia_verifica", "Avvio della verifica", ("DISBURSING",), "UNDER_REVIEW",
                   frozenset({WORKER, R.SYSTEM}), starts=(VERIFICA_FNA,)),
        Transition("chiudi", "Verifica ed esito", ("UNDER_REVIEW",), "CLOSED", frozenset({WORKER}),
                   data=VerificaFna, sets_outcome=True),
        Transition("rinuncia", "Rinuncia", OPEN_STATES, "WITHDRAWN", frozenset({R.BENEFICIARY, CSC}),
                   data=Rinuncia),
    ),
    outcome=OutcomeRule("piano rispettato → positivo; erogazioni parziali → parziale; altrimenti negativo",
                        fna_outcome),
)
