"""Bonus Famiglia (Regione Lombardia): the Ambito's part of the regional measure, DOMAIN.md §12.

The family (the mother, or the adopting parent) asks the comune's social service for the vulnerability
interview; the social worker holds it and issues the sheet (scheda di vulnerabilità / avvenuto colloquio,
needed for a pregnancy); the family applies on the regional platform with the worker's help; CSC records
the Region's outcome and the payments (two equal instalments for a pregnancy, the second after the
newborn's tessera sanitaria; one payment for an adoption); the worker records the monitoring sheets and
closes the case. Amounts, the ISEE cap, the residence years and the terms are policy values per edition.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from domain.common import (
    Form,
    Persona,
    Rinuncia,
    as_date,
    assignee_is_social_worker_of_sub_ambito,
    euro,
    isee_valid_on_effective_date,
    not_after_effective,
)
from domain.engine import Context
from domain.person import real_incompatibility_guard
from domain.validation import Euro, Isee, IseeType, ItalianDate, is_provisional_codice_fiscale, sex_from_codice_fiscale
from domain.workflow import Basis, DeadlineRule, Guard, Role, Source, State, Transition, Workflow

R = Role
WORKER, COORD, CSC = R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.CSC_ADMIN
P = "bonus_famiglia"  # the policy section (config/policies/*.toml)


class Evento(StrEnum):
    GRAVIDANZA = "gravidanza"
    ADOZIONE = "adozione"


class RichiestaColloquio(Form):
    persona: Persona = Field(title="Madre o genitore adottivo")
    evento: Evento = Field(title="Gravidanza o adozione")
    figli: int = Field(title="Figli attesi o adottati (gemelli: più di uno)", ge=1, le=6)
    data_presunta_parto: ItalianDate | None = Field(default=None, title="Data presunta del parto")
    richiesto_il: ItalianDate = Field(title="Data della richiesta di colloquio")
    assegnatario: str = Field(title="Assistente sociale del comune che svolge il colloquio", min_length=1)
    inviante: str | None = Field(default=None, title="Inviante (consultorio, Centro di Aiuto alla Vita...)",
                                 max_length=200)

    @model_validator(mode="after")
    def pregnancy_has_expected_date(self) -> "RichiestaColloquio":
        if self.evento is Evento.GRAVIDANZA and self.data_presunta_parto is None:
            raise ValueError("per una gravidanza indicare la data presunta del parto")
        if self.evento is Evento.ADOZIONE and self.data_presunta_parto is not None:
            raise ValueError("la data presunta del parto non si indica per un'adozione")
        return self


class AreaVulnerabilita(StrEnum):
    ECONOMICA = "economica"
    ABITATIVA = "abitativa"
    LAVORATIVA = "lavorativa"
    RELAZIONALE = "relazionale"
    SOLITUDINE = "solitudine"


class SchedaRilasciata(Form):
    colloquio_il: ItalianDate = Field(title="Data del colloquio")
    aree_vulnerabilita: list[AreaVulnerabilita] = Field(title="Aree di vulnerabilità rilevate", min_length=1)
    note_colloquio: str = Field(title="Note del colloquio", min_length=3, max_length=4000)
    scheda_rilasciata_il: ItalianDate = Field(title="Data di rilascio della scheda")

    @model_validator(mode="after")
    def sheet_after_interview(self) -> "SchedaRilasciata":
        if self.scheda_rilasciata_il < self.colloquio_il:
            raise ValueError("la scheda non può essere rilasciata prima del colloquio")
        return self


class SchedaNonRilasciata(Form):
    colloquio_il: ItalianDate = Field(title="Data del colloquio")
    motivo_mancato_rilascio: str = Field(title="Motivo del mancato rilascio della scheda", min_length=3,
                                         max_length=2000)


class DomandaRegionale(Form):
    id_domanda_regionale: str = Field(title="Protocollo/ID della domanda sulla piattaforma regionale",
                                      min_length=3, max_length=40)
    presentata_il: ItalianDate = Field(title="Data di presentazione della domanda")
    isee: Isee = Field(title="Attestazione ISEE (ordinario o corrente)")
    anni_residenza_richiedente: int = Field(title="Anni di residenza continuativa in Lombardia (richiedente)",
                                            ge=0, le=120)
    anni_residenza_altro_genitore: int | None = Field(
        default=None, title="Anni di residenza continuativa in Lombardia (altro genitore; vuoto se assente)",
        ge=0, le=120)
    misure_alternative: list[str] = Field(default_factory=list,
                                          title="Misure di sostegno alla natalità già percepite (comunali o nazionali)")


class EsitoAmmissione(Form):
    esito_comunicato_il: ItalianDate = Field(title="Data della comunicazione regionale di ammissione")
    importo_concesso: Euro = Field(title="Importo concesso (€)", gt=0)


class EsitoNonAmmissione(Form):
    esito_comunicato_il: ItalianDate = Field(title="Data della comunicazione regionale di non ammissione")


class Pagamento(Form):
    pagato_il: ItalianDate = Field(title="Data del pagamento")
    importo: Euro = Field(title="Importo pagato (€)", gt=0)


class Nascita(Form):
    nato_il: ItalianDate = Field(title="Data di nascita")
    nati: int = Field(title="Figli nati", ge=1, le=6)


class TesseraSanitaria(Form):
    tessera_presentata_il: ItalianDate = Field(title="Data di presentazione della tessera sanitaria")


class UsoContributo(StrEnum):
    BENI_PRIMA_INFANZIA = "beni_prima_infanzia"
    SPESE_SANITARIE = "spese_sanitarie"
    UTENZE_AFFITTO = "utenze_affitto"
    ALTRO = "altro"


class SchedaMonitoraggio(Form):
    compilata_il: ItalianDate = Field(title="Data della scheda di monitoraggio")
    situazione_nucleo: str = Field(title="Situazione del nucleo familiare", min_length=3, max_length=4000)
    uso_contributo: list[UsoContributo] = Field(title="Utilizzo del contributo", min_length=1)
    servizi_attivati: list[str] = Field(default_factory=list, title="Servizi e interventi attivati")


class Chiusura(Form):
    relazione_finale: str = Field(title="Relazione di chiusura", min_length=3, max_length=4000)


# --- guards -----------------------------------------------------------------------------------


def _is_pregnancy(ctx: Context) -> bool:
    return ctx.merged.get("evento") == Evento.GRAVIDANZA.value


def _pregnant_woman(ctx: Context) -> str | None:
    code = str((ctx.case.person or {}).get("codice_fiscale", ""))
    if _is_pregnancy(ctx) and code and not is_provisional_codice_fiscale(code) and sex_from_codice_fiscale(code) != "F":
        return "per una gravidanza la richiedente è la madre: il codice fiscale indicato è di un uomo"
    return None


def _sheet_needed_for_pregnancy(ctx: Context) -> str | None:
    if ctx.case.state == "INTERVIEW_REQUESTED" and _is_pregnancy(ctx):
        return "per una gravidanza serve la scheda di vulnerabilità rilasciata dal servizio sociale"
    return None


def _isee_type(ctx: Context) -> str | None:
    accepted = {IseeType.ORDINARIO.value, IseeType.CORRENTE.value}
    return None if ctx.data.isee.tipo.value in accepted else "serve un ISEE ordinario o corrente"


def _isee_within_cap(ctx: Context) -> str | None:
    cap = Decimal(str(ctx.policy.get(f"{P}.isee_massimo")))
    value = ctx.data.isee.valore
    return f"ISEE di {euro(value)} oltre la soglia di {euro(cap)}" if value > cap else None


def _residence_years(ctx: Context) -> str | None:
    least = int(ctx.policy.get(f"{P}.anni_residenza_minimi"))
    both = bool(ctx.policy.get(f"{P}.residenza_entrambi_genitori"))
    own, other = ctx.data.anni_residenza_richiedente, ctx.data.anni_residenza_altro_genitore
    years = [own] if other is None else [own, other]
    if both and any(y < least for y in years):
        return f"entrambi i genitori devono risiedere in Lombardia da almeno {least} anni continuativi"
    if not both and all(y < least for y in years):
        return f"almeno un genitore deve risiedere in Lombardia da almeno {least} anni continuativi"
    return None


def _no_alternative_measure(ctx: Context) -> str | None:
    found = ctx.data.misure_alternative
    return f"misura alternativa di sostegno alla natalità già percepita: {', '.join(found)}" if found else None


def granted_amount(children: int, policy) -> Decimal:
    """€ per child (a policy value per edition) times the expected or adopted children (twins count twice)."""
    return Decimal(str(policy.get(f"{P}.importo_per_figlio"))) * children


def instalments(granted: Decimal, pregnancy: bool) -> tuple[Decimal, ...]:
    """Two equal instalments for a pregnancy (the second takes the odd cent), one payment for an adoption."""
    if not pregnancy:
        return (granted,)
    first = (granted / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return first, granted - first


def _amount_granted(ctx: Context) -> str | None:
    children = int(ctx.merged["figli"])
    due = granted_amount(children, ctx.policy)
    if ctx.data.importo_concesso != due:
        per_child = euro(ctx.policy.get(f"{P}.importo_per_figlio"))
        return (f"importo concesso {euro(ctx.data.importo_concesso)} diverso da {euro(due)} "
                f"({per_child} per {children} {'figlio' if children == 1 else 'figli'})")
    return None


def _payment(index: int, label: str):
    def check(ctx: Context) -> str | None:
        due = instalments(Decimal(str(ctx.merged["importo_concesso"])), _is_pregnancy(ctx))[index]
        paid = ctx.data.importo
        return f"importo {label} {euro(paid)} diverso da quello dovuto ({euro(due)})" if paid != due else None

    return Guard(f"importo {label} pari a quello dovuto", check)


def _birth_recorded(ctx: Context) -> str | None:
    return None if ctx.merged.get("nato_il") else "registrare prima la nascita"


def _birth_after_request(ctx: Context) -> str | None:
    asked = as_date(ctx.merged["richiesto_il"])
    born = ctx.data.nato_il
    return f"la data di nascita ({born:%d/%m/%Y}) precede la richiesta di colloquio" if born < asked else None


# --- deadlines --------------------------------------------------------------------------------

SCHEDA = DeadlineRule(
    "scheda_vulnerabilita", "Colloquio e scheda di vulnerabilità", f"{P}.giorni_scheda", Basis.WORKING,
    Source.CONFIGURED, met_by=("rilascia_scheda", "nega_scheda", "presenta_domanda"), anchor="data:richiesto_il",
)
TESSERA = DeadlineRule(
    "tessera_sanitaria", "Tessera sanitaria del neonato (dalla nascita)", f"{P}.giorni_tessera_sanitaria",
    Basis.CALENDAR, Source.CONFIGURED, met_by=("presenta_tessera",), anchor="data:nato_il",
)
MONITORAGGIO = DeadlineRule(
    "monitoraggio", "Scheda di monitoraggio", f"{P}.giorni_monitoraggio", Basis.CALENDAR, Source.CONFIGURED,
    met_by=("registra_monitoraggio", "chiudi"),
)

PREGNANCY, ADOPTION = frozenset({"gravidanza"}), frozenset({"adozione"})  # the kinds some steps are for
OPEN_BEFORE_PAYMENT = ("SHEET_ISSUED", "SUBMITTED", "ADMITTED")

BONUS_FAMIGLIA = Workflow(
    case_type="bonus_famiglia",
    label="Bonus Famiglia",
    description="Contributo regionale alle famiglie vulnerabili in attesa di un figlio o che adottano",
    kinds=(("gravidanza", "Gravidanza"), ("adozione", "Adozione")),
    states=(
        State("INTERVIEW_REQUESTED", "Colloquio richiesto"),
        State("SHEET_ISSUED", "Scheda rilasciata"),
        State("SHEET_NOT_ISSUED", "Scheda non rilasciata", terminal=True, off_path=True),
        State("SUBMITTED", "Domanda presentata"),
        State("ADMITTED", "Ammessa"),
        State("NOT_ADMITTED", "Non ammessa", terminal=True, off_path=True),
        State("FIRST_PAID", "Prima rata erogata"),
        State("HEALTH_CARD", "Tessera sanitaria presentata"),
        State("MONITORING", "Contributo erogato: monitoraggio"),
        State("CLOSED", "Chiusa", terminal=True),
        State("ARCHIVED", "Archiviata", terminal=True, off_path=True),
        State("WITHDRAWN", "Rinuncia", terminal=True, off_path=True),
    ),
    transitions=(
        Transition("richiedi_colloquio", "Richiesta di colloquio", (), "INTERVIEW_REQUESTED",
                   frozenset({WORKER, CSC}), data=RichiestaColloquio, sets_kind="evento",
                   assigns_owner="assegnatario", starts=(SCHEDA,),
                   guards=(assignee_is_social_worker_of_sub_ambito(),
                           Guard("gravidanza: richiede la madre", _pregnant_woman),
                           not_after_effective("richiesto_il", "Data della richiesta"))),
        Transition("rilascia_scheda", "Colloquio: scheda rilasciata", ("INTERVIEW_REQUESTED",), "SHEET_ISSUED",
                   frozenset({WORKER}), data=SchedaRilasciata,
                   guards=(not_after_effective("scheda_rilasciata_il", "Data di rilascio della scheda"),)),
        Transition("nega_scheda", "Colloquio: scheda non rilasciata", ("INTERVIEW_REQUESTED",), "SHEET_NOT_ISSUED",
                   frozenset({WORKER}), data=SchedaNonRilasciata,
                   guards=(not_after_effective("colloquio_il", "Data del colloquio"),)),
        Transition("presenta_domanda", "Domanda presentata sulla piattaforma regionale",
                   ("SHEET_ISSUED", "INTERVIEW_REQUESTED"), "SUBMITTED", frozenset({WORKER, CSC}),
                   data=DomandaRegionale,
                   guards=(Guard("scheda di vulnerabilità per la gravidanza", _sheet_needed_for_pregnancy),
                           Guard("ISEE ordinario o corrente", _isee_type),
                           Guard("ISEE entro la soglia", _isee_within_cap),
                           isee_valid_on_effective_date(),
                           Guard("residenza in Lombardia", _residence_years),
                           Guard("nessuna misura alternativa", _no_alternative_measure),
                           real_incompatibility_guard(),
                           not_after_effective("presentata_il", "Data di presentazione"))),
        Transition("ammetti", "Esito regionale: ammessa", ("SUBMITTED",), "ADMITTED", frozenset({CSC}),
                   data=EsitoAmmissione,
                   guards=(Guard("importo per figlio secondo la politica", _amount_granted),
                           not_after_effective("esito_comunicato_il", "Data della comunicazione"))),
        Transition("non_ammette", "Esito regionale: non ammessa", ("SUBMITTED",), "NOT_ADMITTED", frozenset({CSC}),
                   data=EsitoNonAmmissione, requires_reason=True,
                   guards=(not_after_effective("esito_comunicato_il", "Data della comunicazione"),)),
        Transition("eroga_prima_rata", "Prima rata erogata", ("ADMITTED",), "FIRST_PAID", frozenset({CSC}),
                   data=Pagamento, merge_data=False, for_kinds=PREGNANCY,
                   guards=(_payment(0, "della prima rata"),
                           not_after_effective("pagato_il", "Data del pagamento"))),
        Transition("eroga_contributo", "Contributo erogato (adozione, unica soluzione)", ("ADMITTED",),
                   "MONITORING", frozenset({CSC}), data=Pagamento, merge_data=False, starts=(MONITORAGGIO,),
                   for_kinds=ADOPTION,
                   guards=(_payment(0, "del contributo"), not_after_effective("pagato_il", "Data del pagamento"))),
        Transition("registra_nascita", "Nascita", ("FIRST_PAID",), "FIRST_PAID", frozenset({WORKER, CSC}),
                   data=Nascita, starts=(TESSERA,), for_kinds=PREGNANCY,
                   guards=(not_after_effective("nato_il", "Data di nascita"),
                           Guard("nascita dopo la richiesta", _birth_after_request))),
        Transition("presenta_tessera", "Tessera sanitaria del neonato presentata", ("FIRST_PAID",), "HEALTH_CARD",
                   frozenset({WORKER, CSC}), data=TesseraSanitaria, for_kinds=PREGNANCY,
                   guards=(Guard("nascita registrata", _birth_recorded),
                           not_after_effective("tessera_presentata_il", "Data di presentazione della tessera"))),
        Transition("eroga_seconda_rata", "Seconda rata erogata", ("HEALTH_CARD",), "MONITORING", frozenset({CSC}),
                   data=Pagamento, merge_data=False, starts=(MONITORAGGIO,),
                   guards=(_payment(1, "della seconda rata"), not_after_effective("pagato_il", "Data del pagamento"))),
        Transition("registra_monitoraggio", "Scheda di monitoraggio", ("MONITORING",), "MONITORING",
                   frozenset({WORKER}), data=SchedaMonitoraggio, merge_data=False, starts=(MONITORAGGIO,),
                   guards=(not_after_effective("compilata_il", "Data della scheda"),)),
        Transition("chiudi", "Chiusura", ("MONITORING",), "CLOSED", frozenset({WORKER}), data=Chiusura),
        Transition("archivia", "Archiviazione (la famiglia non prosegue)", ("INTERVIEW_REQUESTED", "SHEET_ISSUED"),
                   "ARCHIVED", frozenset({WORKER, COORD}), requires_reason=True),
        Transition("rinuncia", "Rinuncia", OPEN_BEFORE_PAYMENT, "WITHDRAWN", frozenset({R.BENEFICIARY, WORKER}),
                   data=Rinuncia),
    ),
)
