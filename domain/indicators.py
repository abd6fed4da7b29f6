"""The indicators for the Ufficio di Piano and the Organismo di Valutazione (DOMAIN.md §8), declared as data.

Every figure is an aggregate over the audit history (never a counter that can drift): which steps count,
what value of their data is summed, which filter applies. Ratios combine two of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Agg(StrEnum):
    COUNT = "count"  # audit rows
    CASES = "cases"  # distinct cases
    SUM = "sum"
    MEAN = "mean"


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    group: str  # patti | fna | sad
    case_type: str
    transitions: tuple[str, ...]
    agg: Agg = Agg.COUNT
    field: tuple[str, ...] | None = None  # JSON path in the step's data, for SUM and MEAN
    where: tuple[tuple[tuple[str, ...], str], ...] = ()  # (JSON path, value) filters on the step's data
    unit: str = "n"  # n | eur | ore | giorni | pct | tasso
    cumulative: bool = True  # a yearly flow (projectable to year end)
    from_case: bool = False  # `field` is read from the case's data (e.g. the voucher's monthly hours), not the step's


@dataclass(frozen=True)
class Ratio:
    code: str
    label: str
    group: str
    numerator: str
    denominator: str
    scale: float = 100.0
    unit: str = "pct"


@dataclass(frozen=True)
class Interval:
    """Days from the first `start` step to the first later `end` step of a case (median, p90), gross and net of
    the days spent in suspended states in between."""

    code: str
    label: str
    group: str
    case_type: str
    start: tuple[str, ...]
    end: tuple[str, ...]


P, F, S = "patti", "fna", "sad"
MEASURES: tuple[Measure, ...] = (
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
    Measure("fna_domande", "Domande FNA presentate", F, "fna_domanda", ("presenta",)),
    Measure("fna_ammesse", "Domande ammesse", F, "fna_domanda", ("ammetti",)),
    Measure("fna_non_ammesse", "Domande non ammesse", F, "fna_domanda", ("rigetta",)),
    Measure("fna_finanziate", "Domande finanziate", F, "fna_domanda", ("finanzia",)),
    Measure("fna_non_finanziate", "Domande ammesse non finanziate", F, "fna_domanda", ("non_finanzia",)),
    Measure("fna_decadute", "Domande decadute", F, "fna_domanda", ("decadenza",)),
    Measure("fna_euro_impegnati", "Euro impegnati (FNA, lordi: comprese domande poi decadute o rinunciate)", F, "fna_domanda", ("finanzia",), Agg.SUM,
            ("importo_annuo",), unit="eur"),
    Measure("fna_euro_pagati", "Euro pagati (FNA)", F, "fna_domanda", ("registra_pagamento",), Agg.SUM,
            ("importo",), unit="eur"),
    Measure("fna_budget", "Budget dei bandi approvati", F, "fna_bando", ("approva",), Agg.SUM, ("budget",),
            unit="eur"),
    Measure("sad_enti_invitati", "Enti invitati alla sperimentazione SAD", S, "sad_adesione", ("invita",)),
    Measure("sad_enti_risposto", "Enti che hanno risposto", S, "sad_adesione", ("rispondi",)),
    Measure("sad_enti_firmato", "Enti con patto di accreditamento firmato", S, "sad_adesione", ("firma",)),
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

RATIOS: tuple[Ratio, ...] = (
    Ratio("patti_realizzazione_pct", "Realizzazione: esiti positivi sui patti conclusi", P,
          "patti_esito_positivo", "patti_conclusi"),
    Ratio("fna_budget_impegnato_pct", "Quota del budget FNA impegnata", F, "fna_euro_impegnati", "fna_budget"),
    Ratio("sad_risposta_enti_pct", "Enti che hanno risposto sugli invitati", S, "sad_enti_risposto",
          "sad_enti_invitati"),
    Ratio("sad_aderenza_pct", "Aderenza: ore erogate sulle ore pianificate", S, "sad_ore_registrate",
          "sad_ore_pianificate"),
)

INTERVALS: tuple[Interval, ...] = (
    Interval("patti_giorni_segnalazione_attivazione", "Giorni dalla segnalazione all'attivazione del patto", P,
             "patto", ("segnala",), ("attiva",)),
    Interval("patti_giorni_attivazione_verifica", "Giorni dall'attivazione alla verifica", P, "patto",
             ("attiva",), ("chiudi",)),
    Interval("fna_giorni_chiusura_graduatoria", "Giorni dalla chiusura del bando alla graduatoria definitiva", F,
             "fna_bando", ("chiudi",), ("pubblica_graduatoria_definitiva",)),
    Interval("fna_giorni_ammissione_pagamento", "Giorni dall'ammissione al primo pagamento", F, "fna_domanda",
             ("ammetti",), ("registra_pagamento",)),
    Interval("sad_giorni_segnalazione_prima_visita", "Giorni dalla segnalazione alla prima visita", S, "sad_caso",
             ("segnala",), ("prima_visita",)),
)

BY_DIMENSIONS = ("totale", "sub_ambito", "comune", "tipologia", "misura", "fascia_eta", "ente")

AGE_BANDS = ((0, 17, "0-17"), (18, 64, "18-64"), (65, 79, "65-79"), (80, 200, "80+"))


def age_band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def target_status(value: float | None, low: float, high: float) -> str | None:
    if value is None:
        return None
    return "sotto" if value < low else "sopra" if value > high else "entro"
