"""FNA Misura B2 (DOMAIN.md §5): the call and the application, and every fact about them Legami reads."""
from __future__ import annotations

from domain.casetypes.fna.acts import ACTS
from domain.access import CaseRef, Principal, read_refusal
from domain.casetype import Audience, Breakdowns, CaseType, IndicatorGroup, MenuItem, ParentLink, ReminderRouting
from domain.casetypes.fna.bando import BANDO
from domain.casetypes.fna.demo import demo
from domain.casetypes.fna.domanda import DOMANDA
from domain.casetypes.fna.siuss import SIUSS
from domain.fields import FieldClass
from domain.indicators import Agg, Interval, Measure, Ratio
from domain.workflow import Role

_A, _S, _H = FieldClass.ADMINISTRATIVE, FieldClass.SOCIAL, FieldClass.HEALTH
F = "fna"
GROUP = IndicatorGroup(F, "FNA Misura B2")
R = Role
CALL, APPLICATION = BANDO.case_type, DOMANDA.case_type
CALL_OPEN = "OPEN"  # the call's state in which applications are received

# The call is a district record (no person): its fields are administrative, except the ranking snapshot,
# which carries each application's health-derived points (domain/casetypes/fna/ranking.py's breakdown).
def calls_refusal(principal: Principal) -> str | None:
    """None if the user may consult the FNA calls (district records) at all: the calls page and its menu entry."""
    return read_refusal(principal, CaseRef(CALL))


CALL_FIELDS = {
    "posizioni[].dettaglio.*": _H,  # a score component not listed here: protected like health data
    "posizioni[].dettaglio.gravita": _H,
    "posizioni[].dettaglio.adl": _H,
    "posizioni[].dettaglio.iadl": _H,
    "posizioni[].dettaglio.isee": _A,
    "posizioni[].dettaglio.eta": _A,
    "posizioni[].dettaglio.solitudine": _S,
}
APPLICATION_FIELDS = {
    "invalidita_104_art3c3": _H, "indennita_accompagnamento": _H, "scala": _H, "adl": _H, "iadl": _H,
    "misura": _A, "caregiver": _S, "assistente_personale": _S, "vive_solo": _S, "altre_misure": _A,
    "documenti_mancanti": _A, "misura_proposta": _A,
    "motivi": _A, "comunicato_il": _A, "osservazioni_ricevute": _A, "esame_osservazioni": _A,
    "mese_inizio": _A, "obblighi": _A, "contratto_assistente": _A,
    "mese": _A, "contributi_inps_verificati": _A,
    "causa": _A, "dal": _A, "mesi_erogati": _A, "piano_rispettato": _A,
}

APPLICATION_MEASURES = (
    Measure("fna_domande", "Domande FNA presentate", F, "fna_domanda", ("presenta",)),
    Measure("fna_ammesse", "Domande ammesse", F, "fna_domanda", ("ammetti",)),
    Measure("fna_non_ammesse", "Domande non ammesse", F, "fna_domanda", ("rigetta",)),
    Measure("fna_finanziate", "Domande finanziate", F, "fna_domanda", ("finanzia",)),
    Measure("fna_non_finanziate", "Domande ammesse non finanziate", F, "fna_domanda", ("non_finanzia",)),
    Measure("fna_decadute", "Domande decadute", F, "fna_domanda", ("decadenza",)),
    Measure("fna_euro_impegnati", "Euro impegnati (FNA, lordi: comprese domande poi decadute o rinunciate)", F,
            "fna_domanda", ("finanzia",), Agg.SUM, ("importo_annuo",), unit="eur"),
    Measure("fna_euro_pagati", "Euro pagati (FNA)", F, "fna_domanda", ("registra_pagamento",), Agg.SUM,
            ("importo",), unit="eur"),
)
CALL_MEASURES = (
    Measure("fna_budget", "Budget dei bandi approvati", F, "fna_bando", ("approva",), Agg.SUM, ("budget",),
            unit="eur"),
)

from domain.person import Incompatibility  # noqa: E402

CASE_TYPES = [
    CaseType(
        workflow=BANDO,
        group=GROUP,
        fields=CALL_FIELDS,
        measures=CALL_MEASURES,
        intervals=(Interval("fna_giorni_chiusura_graduatoria",
                            "Giorni dalla chiusura del bando alla graduatoria definitiva", F, "fna_bando",
                            ("chiudi",), ("pubblica_graduatoria_definitiva",)),),
        reminders=ReminderRouting(without_owner=("planning_office",), district_escalation="planning_office"),
        audience=Audience(deadlines_for=frozenset({R.PLANNING_OFFICE})),
        menu=(MenuItem("Bandi FNA", "/fna/bandi", calls_refusal),),
        demo=demo,  # the call and its applications
    ),
    CaseType(
        workflow=DOMANDA,
        group=GROUP,
        fields=APPLICATION_FIELDS,
        measures=APPLICATION_MEASURES,
        ratios=(Ratio("fna_budget_impegnato_pct", "Quota del budget FNA impegnata", F, "fna_euro_impegnati",
                      "fna_budget"),),
        intervals=(Interval("fna_giorni_ammissione_pagamento", "Giorni dall'ammissione al primo pagamento", F,
                            "fna_domanda", ("ammetti",), ("registra_pagamento",)),),
        reminders=ReminderRouting(without_owner=("csc_admin",)),
        siuss=SIUSS,
        parent=ParentLink(CALL, frozenset({CALL_OPEN}), "Bando FNA"),
        isee_renewal_states=("DISBURSING", "SUSPENDED"),
        # checked against the person's real cases at admission (domain/person.py), besides what the form declares
        incompatibilities=(
            Incompatibility("misura_esterna", "Misura B1", frozenset({"B1"})),
            Incompatibility("misura_esterna", "ricovero definitivo (RSA, RSD, CSS, hospice)",
                            frozenset({"RSA", "RSD", "CSS", "hospice"})),
            Incompatibility("misura_esterna", "buono assistente familiare (BAF)", frozenset({"BAF"})),
        ),
        acts=ACTS,
        breakdowns=Breakdowns(misura_field="misura", age_bands=True),
        # The roles that process an FNA application (protocol and checks, assessment, ranking and funding) read
        # it one by one; a minor's application is processed by the same roles, each read logged [A].
        audience=Audience(
            read_by=frozenset({R.PLANNING_OFFICE, R.HEALTH_ASSESSOR}),
            assessor_states=frozenset({"ASSESSMENT"}),
            deadlines_for=frozenset({R.PLANNING_OFFICE, R.CSC_ADMIN, R.HEALTH_ASSESSOR}),
            minors_read_by=frozenset({R.CSC_ADMIN, R.SOCIAL_WORKER, R.PLANNING_OFFICE, R.HEALTH_ASSESSOR}),
        ),
    ),
]
