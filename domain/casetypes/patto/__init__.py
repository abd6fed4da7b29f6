"""Patto gener-attivo (DOMAIN.md §4): the declaration and every fact about it that Legami reads."""
from __future__ import annotations

from domain.casetypes.patto.acts import ACTS
from domain.casetype import CaseType, IndicatorGroup, Rereferral
from domain.casetypes.patto.demo import demo
from domain.casetypes.patto.workflow import PATTO
from domain.events import Notify, Recipient
from domain.casetypes.patto.siuss import SIUSS
from domain.fields import FieldClass
from domain.indicators import Agg, Interval, Measure, Ratio

_A, _S = FieldClass.ADMINISTRATIVE, FieldClass.SOCIAL
P = "patti"
PATTO_TYPE = PATTO.case_type
PATTO_ACTIVATION = "attiva"  # the step that activates a patto (the 30.09 housing obligation counts it)

FIELDS = {
    "fonte": _S, "bisogno": _S, "note": _S, "patto_precedente": _A,
    "assegnatario": _A, "primo_colloquio_il": _S,
    "requisito_mancante": _A, "comunicata_il": _A,
    "bisogni": _S, "risorse": _S, "componenti_nucleo": _S,
    "canale": _A, "obiettivi": _S, "impegni_reciprocita": _S, "misura_economica": _A,
    "data_inizio": _A, "data_fine": _A, "firmatari": _A, "firma_assistente_sociale": _A,
    "informativa_privacy": _A,
    "incontro_il": _S, "ore_reciprocita": _S, "avanzamento": _S,
    "causa": _S, "diffida_del": _S,
    "raggiungimento": _S, "relazione": _S, "tasso_realizzazione": _S,
}

MEASURES = (
    Measure("patti_segnalazioni", "Segnalazioni per patto", P, "patto", ("segnala",)),
    Measure("patti_attivati", "Patti attivati", P, "patto", ("attiva",)),
    Measure("patti_attivati_progetto", "Patti attivati nel progetto Wel(l)FARE Legami", P, "patto", ("attiva",),
            where=((("canale",), "progetto"),)),
    Measure("patti_attivati_ulteriori", "Ulteriori patti attivati", P, "patto", ("attiva",),
            where=((("canale",), "ulteriore"),)),
    Measure("patti_conclusi", "Patti conclusi (verifica o interruzione)", P, "patto", ("chiudi", "interrompi")),
    Measure("patti_esito_positivo", "Patti con esito positivo", P, "patto", ("chiudi",),
            where=((("esito",), "positivo"),)),
    Measure("patti_esito_parziale", "Patti con esito parziale", P, "patto", ("chiudi",),
            where=((("esito",), "parziale"),)),
    Measure("patti_esito_negativo", "Patti con esito negativo", P, "patto", ("chiudi",),
            where=((("esito",), "negativo"),)),
    Measure("patti_interrotti", "Patti interrotti", P, "patto", ("interrompi",)),
    Measure("patti_rinunce", "Rinunce", P, "patto", ("rinuncia",)),
    Measure("patti_tasso_medio", "Tasso medio di realizzazione dei contenuti", P, "patto", ("chiudi",),
            Agg.MEAN, ("tasso_realizzazione",), unit="tasso", cumulative=False),
    Measure("patti_ore_reciprocita", "Ore di reciprocità svolte", P, "patto", ("registra_monitoraggio",),
            Agg.SUM, ("ore_reciprocita",), unit="ore"),
    Measure("patti_euro_erogati", "Euro erogati nei patti", P, "patto", ("registra_monitoraggio",),
            Agg.SUM, ("importo_erogato",), unit="eur"),
)
RATIOS = (
    Ratio("patti_realizzazione_pct", "Realizzazione: esiti positivi sui patti conclusi", P,
          "patti_esito_positivo", "patti_conclusi"),
)
INTERVALS = (
    Interval("patti_giorni_segnalazione_attivazione", "Giorni dalla segnalazione all'attivazione del patto", P,
             "patto", ("segnala",), ("attiva",)),
    Interval("patti_giorni_attivazione_verifica", "Giorni dall'attivazione alla verifica", P, "patto",
             ("attiva",), ("chiudi",)),
)

CASE_TYPES = [
    CaseType(
        workflow=PATTO,
        group=IndicatorGroup(P, "Patti gener-attivi"),
        fields=FIELDS,
        measures=MEASURES,
        ratios=RATIOS,
        intervals=INTERVALS,
        notifications=(Notify("assegna", "caso_assegnato", Recipient.NEW_OWNER),),
        isee_renewal_states=("ACTIVE", "SUSPENDED"),
        value_labels={"centro_impiego": "Centro per l'impiego", "terzo_settore": "Terzo settore",
                      "una_tantum": "Una tantum", "sostegno_reddito": "Sostegno al reddito",
                      "ulteriore": "Patto ulteriore", "progetto": "Progetto Wel(l)FARE Legami"},
        rereferrals=(Rereferral("patti_risegnalazioni_12m", "Nuove segnalazioni entro 12 mesi dalla precedente",
                                "segnala", 365),),
        siuss=SIUSS,
        demo=demo,
        acts=ACTS,
        required_documents={PATTO_ACTIVATION: ("patto_firmato",)},  # DOMAIN.md §14: activation needs the signed pact
    ),
]
