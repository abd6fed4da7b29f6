"""A measure the person receives from another body (DOMAIN.md §13): recorded in Legami so that incompatibilities
are checked against the person's real cases, not only against what an application declares.

The Misura B1 (gravissima disabilità) is granted by ATS/ASST, residential admissions and the BAF by others, and a
comune's own birth support by the comune: none of them is processed by the Ambito, so none has a workflow here.
A worker or CSC who learns of one records it (the measure, who grants it, since when); it stays «in corso» until
recorded as ended. FNA B2 and Bonus Famiglia declare which of these exclude them (`incompatibilities`).
"""
from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from domain.casetype import CaseType, IndicatorGroup
from domain.casetypes.misura_esterna.demo import demo
from domain.common import Form, Persona
from domain.fields import FieldClass
from domain.indicators import Measure
from domain.validation import ItalianDate
from domain.workflow import Role, State, Transition, Workflow

R = Role
_A = FieldClass.ADMINISTRATIVE
RECORDERS = frozenset({R.SOCIAL_WORKER, R.CSC_ADMIN})  # who records it (as who opens any referral)
STAFF = RECORDERS | {R.SUBAREA_COORDINATOR}


class MisuraEsterna(StrEnum):
    B1 = "B1"
    RSA = "RSA"
    RSD = "RSD"
    CSS = "CSS"
    HOSPICE = "hospice"
    BAF = "BAF"
    HOME_CARE_PREMIUM = "Home Care Premium"
    PRO_VI = "Pro.Vi"
    BONUS_NASCITA_COMUNALE = "bonus_nascita_comunale"
    ASSEGNO_NATALITA = "assegno_natalita"


LABELS = {"B1": "Misura B1 (disabilità gravissima)", "RSA": "Ricovero in RSA", "RSD": "Ricovero in RSD",
          "CSS": "Comunità socio-sanitaria (CSS)", "hospice": "Hospice", "BAF": "Buono assistente familiare (BAF)",
          "Home Care Premium": "Home Care Premium (INPS)", "Pro.Vi": "Progetto di vita indipendente (Pro.Vi)",
          "bonus_nascita_comunale": "Bonus nascita comunale", "assegno_natalita": "Assegno di natalità"}


class Registrazione(Form):
    persona: Persona = Field(title="Beneficiario")
    misura: MisuraEsterna = Field(title="Misura")
    ente_erogatore: str = Field(title="Ente che la eroga (ATS, ASST, INPS, comune...)", min_length=2, max_length=120)
    dal: ItalianDate = Field(title="In corso dal")


class Cessazione(Form):
    al: ItalianDate = Field(title="Cessata il")


MISURA_ESTERNA = Workflow(
    case_type="misura_esterna",
    label="Misura di altro ente",
    description="Una misura che la persona riceve da un altro ente (es. Misura B1 da ATS/ASST), registrata per "
                "controllare le incompatibilità",
    states=(State("ACTIVE", "In corso"), State("ENDED", "Cessata", terminal=True)),
    transitions=(
        Transition("registra", "Registrazione della misura", (), "ACTIVE", RECORDERS, data=Registrazione),
        Transition("cessa", "Cessazione della misura", ("ACTIVE",), "ENDED", STAFF, data=Cessazione),
    ),
)

CASE_TYPES = [
    CaseType(
        workflow=MISURA_ESTERNA,
        group=IndicatorGroup("misure_esterne", "Misure di altri enti"),
        fields={"misura": _A, "ente_erogatore": _A, "dal": _A, "al": _A},
        measures=(Measure("misure_esterne_registrate", "Misure di altri enti registrate", "misure_esterne",
                          "misura_esterna", ("registra",)),),
        value_labels=LABELS,
        demo=demo,
    ),
]
