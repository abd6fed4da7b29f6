"""SAD sperimentazione (DOMAIN.md §6): the provider's adhesion and the beneficiary's case."""
from __future__ import annotations

from pathlib import Path

from domain.casetypes.sad.acts import ACTS
from domain.conditions import Principal
from domain.casetype import Audience, CaseType, DeadlineIndicator, IndicatorGroup, MenuItem, ReminderRouting
from domain.casetypes.sad.demo import demo
from domain.casetypes.sad.workflow import ADESIONE, CASO
from domain.events import Notify, Recipient
from domain.casetypes.sad.siuss import SIUSS
from domain.fields import FieldClass
from domain.indicators import Agg, Interval, Measure, Ratio
from domain.workflow import Role

_S, _H, _C = FieldClass.SOCIAL, FieldClass.HEALTH, FieldClass.CARE_PLAN
S = "sad"
GROUP = IndicatorGroup(S, "SAD sperimentazione")
TEMPLATES = Path(__file__).parent / "templates"
R = Role
ADHESION, SAD_CASE = ADESIONE.case_type, CASO.case_type
# SAD cases being served (the provider portal lists them) and those whose monthly visit log is owed
SERVED_STATES = ("ACTIVE", "REVIEW", "SUSPENDED", "PROVIDER_CHANGE", "UNDER_REVIEW")
REPORTING_STATES = ("ACTIVE", "REVIEW", "SUSPENDED")
MONTHLY_LOG = "registra_visite"  # the provider's monthly visit register
ADHESION_PENDING = {"INVITED": "non ha ancora risposto all'invito", "ANSWERED": "non ha ancora firmato il patto"}


def portal_refusal(principal: Principal) -> str | None:
    """None if the user may open the provider portal (an accredited provider's account): the page and its menu entry."""
    if principal.role is not R.PROVIDER or not principal.provider_codice:
        return "il portale è riservato agli enti accreditati"
    return None


CASE_FIELDS = {
    "fonte": _S, "urgente": _C, "visita_domiciliare_il": _S, "adl": _H, "iadl": _H,
    "obiettivi": _C, "servizi": _C, "ore_settimanali": _C, "revisione_il": _C,
    "ore_mensili": _C, "valido_dal": _C, "valido_al": _C,
    "visita": _C, "visite": _C, "ore": _C, "mese": _C,
    "esito_revisione": _H,  # the PAI review: may carry clinical notes
    "obiettivi_raggiunti": _S, "quota_obiettivi": _S,
}

ADHESION_MEASURES = (
    Measure("sad_enti_invitati", "Enti invitati alla sperimentazione SAD", S, "sad_adesione", ("invita",)),
    Measure("sad_enti_risposto", "Enti che hanno risposto", S, "sad_adesione", ("rispondi",)),
    Measure("sad_enti_firmato", "Enti con patto di accreditamento firmato", S, "sad_adesione", ("firma",)),
)
CASE_MEASURES = (
    Measure("sad_segnalazioni", "Segnalazioni SAD", S, "sad_caso", ("segnala",)),
    Measure("sad_attivati", "Utenti SAD attivati (prima visita)", S, "sad_caso", ("prima_visita",)),
    Measure("sad_voucher", "Voucher emessi", S, "sad_caso", ("emetti_voucher",)),
    Measure("sad_ore_erogate", "Ore SAD erogate", S, "sad_caso", ("prima_visita", "registra_visite"), Agg.SUM,
            ("ore",), unit="ore"),
    Measure("sad_mesi_registrati", "Mesi di servizio registrati", S, "sad_caso", ("registra_visite",)),
    Measure("sad_ore_registrate", "Ore erogate nei registri mensili", S, "sad_caso", ("registra_visite",), Agg.SUM,
            ("ore",), unit="ore"),
    Measure("sad_ore_pianificate", "Ore pianificate nei mesi registrati (ore mensili del voucher)", S, "sad_caso",
            ("registra_visite",), Agg.SUM, ("ore_mensili",), unit="ore", from_case=True),
    Measure("sad_cambi_ente", "Cambi di ente", S, "sad_caso", ("cambia_ente",)),
    Measure("sad_quota_utente", "Compartecipazione mensile degli utenti (voucher emessi)", S, "sad_caso",
            ("emetti_voucher",), Agg.SUM, ("quota_utente",), unit="eur"),
)

CASE_TYPES = [
    CaseType(
        workflow=ADESIONE,
        group=GROUP,
        measures=ADHESION_MEASURES,
        ratios=(Ratio("sad_risposta_enti_pct", "Enti che hanno risposto sugli invitati", S, "sad_enti_risposto",
                      "sad_enti_invitati"),),
        notifications=(Notify("invita", "sad_invito_adesione", Recipient.PROVIDER),),
        templates=TEMPLATES,
        reminders=ReminderRouting(
            without_owner=("ente", "csc_admin"), district_escalation="csc_admin",
            by_deadline={"risposta_ente": ("ente", "csc_admin"),
                         "firma_patto_accreditamento": ("ente", "csc_admin")}),
        audience=Audience(read_by=frozenset({R.PROVIDER}), deadlines_for=frozenset({R.CSC_ADMIN, R.PROVIDER})),
        demo=demo,  # the adhesions and the beneficiaries' cases
    ),
    CaseType(
        workflow=CASO,
        group=GROUP,
        fields=CASE_FIELDS,
        measures=CASE_MEASURES,
        ratios=(Ratio("sad_aderenza_pct", "Aderenza: ore erogate sulle ore pianificate", S, "sad_ore_registrate",
                      "sad_ore_pianificate"),),
        intervals=(Interval("sad_giorni_segnalazione_prima_visita", "Giorni dalla segnalazione alla prima visita",
                            S, "sad_caso", ("segnala",), ("prima_visita",)),),
        value_labels={"medico_di_base": "Medico di base", "dimissione_protetta": "Dimissione protetta",
                      "servizi_sociali": "Servizi sociali", "igiene_personale": "Igiene personale",
                      "cura_ambiente": "Cura dell'ambiente domestico"},
        deadline_indicators=(DeadlineIndicator("sad_revisioni_pai_puntuali", "Revisioni del PAI svolte nei termini",
                                               "revisione_pai"),),
        notifications=tuple(Notify(t, f"sad_ente_{t}", Recipient.PROVIDER)
                            for t in ("scegli_ente", "cambia_ente", "emetti_voucher")),
        templates=TEMPLATES,
        audience=Audience(read_by=frozenset({R.PROVIDER}), deadlines_for=frozenset({R.PROVIDER})),
        menu=(MenuItem("Portale ente", "/ente", portal_refusal),),
        siuss=SIUSS,
        diary_kinds={"verifica_ente": "Verifica con l'ente erogatore"},
        acts=ACTS,
    ),
]
