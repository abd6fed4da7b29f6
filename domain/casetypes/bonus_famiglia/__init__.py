"""Bonus Famiglia, Regione Lombardia (DOMAIN.md §12): the declaration and every fact about it that Legami reads."""
from __future__ import annotations

from pathlib import Path

from domain.casetypes.bonus_famiglia.acts import ACTS
from domain.casetype import CaseType, IndicatorGroup, ReminderRouting
from domain.casetypes.bonus_famiglia.workflow import BONUS_FAMIGLIA
from domain.events import Notify, Recipient
from domain.fields import FieldClass
from domain.indicators import Agg, Interval, Measure, Ratio
from domain.person import Incompatibility

_A, _S, _H = FieldClass.ADMINISTRATIVE, FieldClass.SOCIAL, FieldClass.HEALTH
B, T = "bonus", "bonus_famiglia"
PAYMENTS = ("eroga_prima_rata", "eroga_contributo", "eroga_seconda_rata")
FIRST_PAYMENTS = ("eroga_prima_rata", "eroga_contributo")

FIELDS = {
    # the request: pregnancy or adoption and the number of children set the amount, so CSC reads them;
    # the expected delivery date is health data (art. 9 GDPR)
    "evento": _A, "figli": _A, "data_presunta_parto": _H, "richiesto_il": _A, "assegnatario": _A,
    "inviante": _S,
    # the vulnerability interview: the worker's notes; only the sheet's date goes with the application
    "colloquio_il": _S, "aree_vulnerabilita": _S, "note_colloquio": _S, "motivo_mancato_rilascio": _S,
    "scheda_rilasciata_il": _A,
    # the regional application, its outcome and the payments
    "id_domanda_regionale": _A, "presentata_il": _A, "isee": _A, "anni_residenza_richiedente": _A,
    "anni_residenza_altro_genitore": _A, "misure_alternative": _A,
    "esito_comunicato_il": _A, "importo_concesso": _A, "pagato_il": _A, "importo": _A,
    "nato_il": _A, "nati": _A, "tessera_presentata_il": _A,
    # the monitoring sheet of the minutes (27/02/2019) and the closure
    "compilata_il": _S, "situazione_nucleo": _S, "uso_contributo": _S, "servizi_attivati": _S,
    "relazione_finale": _S,
}

MEASURES = (
    Measure("bonus_richieste", "Richieste di colloquio (Bonus Famiglia)", B, T, ("richiedi_colloquio",)),
    Measure("bonus_schede_rilasciate", "Schede di vulnerabilità rilasciate", B, T, ("rilascia_scheda",)),
    Measure("bonus_schede_non_rilasciate", "Schede di vulnerabilità non rilasciate", B, T, ("nega_scheda",)),
    Measure("bonus_domande", "Domande presentate sulla piattaforma regionale", B, T, ("presenta_domanda",)),
    Measure("bonus_ammesse", "Domande ammesse dalla Regione", B, T, ("ammetti",)),
    Measure("bonus_non_ammesse", "Domande non ammesse dalla Regione", B, T, ("non_ammette",)),
    Measure("bonus_famiglie_sostenute", "Famiglie sostenute (prima erogazione)", B, T, FIRST_PAYMENTS, Agg.CASES),
    Measure("bonus_euro_erogati", "Euro erogati (Bonus Famiglia)", B, T, PAYMENTS, Agg.SUM, ("importo",),
            unit="eur"),
    Measure("bonus_monitoraggi", "Schede di monitoraggio compilate", B, T, ("registra_monitoraggio",)),
)
RATIOS = (
    Ratio("bonus_ammesse_pct", "Domande ammesse sulle presentate", B, "bonus_ammesse", "bonus_domande"),
)
INTERVALS = (
    Interval("bonus_giorni_richiesta_scheda", "Giorni dalla richiesta di colloquio alla scheda", B, T,
             ("richiedi_colloquio",), ("rilascia_scheda",)),
    Interval("bonus_giorni_ammissione_erogazione", "Giorni dall'ammissione alla prima erogazione", B, T,
             ("ammetti",), FIRST_PAYMENTS),
)

from domain.casetypes.bonus_famiglia.demo import demo  # noqa: E402

CASE_TYPES = [
    CaseType(
        workflow=BONUS_FAMIGLIA,
        group=IndicatorGroup(B, "Bonus Famiglia"),
        fields=FIELDS,
        measures=MEASURES,
        ratios=RATIOS,
        intervals=INTERVALS,
        notifications=(Notify("richiedi_colloquio", "bonus_colloquio_assegnato", Recipient.NEW_OWNER),),
        templates=Path(__file__).parent / "templates",
        # the newborn's tessera sanitaria unlocks the second instalment: CSC, who pays it, is reminded too
        reminders=ReminderRouting(by_deadline={"tessera_sanitaria": ("owner", "csc_admin")}),
        demo=demo,
        # checked against the person's real cases when the application is presented (domain/person.py)
        incompatibilities=(Incompatibility("misura_esterna", "misura comunale o nazionale di sostegno alla natalità",
                                           frozenset({"bonus_nascita_comunale", "assegno_natalita"})),),
        acts=ACTS,
    ),
]
