"""The FNA B2 ranking (graduatoria), DOMAIN.md §5c "Ranking [A]": score, tie-breaks, funding cut-off. Pure.

The declaration of the call (domain/casetypes/fna/bando.py) records ranking snapshots (`Graduatoria`: each
application's score and its breakdown) but says nothing about how the score is made; the rules live here
as data (`SCORING`: one `Component` per part of the score, with the application fields it reads) and
functions, read by the ranking pages, the publication of a ranking and the tests.

Score = ISEE band + severity (both L. 104/92 art. 3 c. 3 and attendance allowance score higher) + living
alone or without a caregiver + age + ADL + IADL, the same points the demo district uses [A].
Ties: lower ISEE first, then the earlier protocol number (DOMAIN.md §5c).
Cut-off: in ranking order, applications are fundable while the cumulative annual amount stays within the
call's budget; the first that does not fit draws the line and everything below it is not fundable
(resources freed later fund the next ones: scorrimento, DOMAIN.md §1).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# Application states that have been admitted (assessed as eligible) and therefore enter a ranking.
RANKED_STATES = ("ELIGIBLE", "NOT_FUNDED", "FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW",
                 "CLOSED", "LAPSED")
# States in which the application has actually been funded (the amount assigned replaces the requested one).
FUNDED_STATES = ("FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW", "CLOSED", "LAPSED")
MONTHS_PER_YEAR = 12  # the annual amount requested = the monthly amount proposed by the assessment × 12 [A]


@dataclass(frozen=True)
class Applicant:
    """What the score reads from an application (its data after the assessment) and its person."""

    isee: Decimal
    grave: bool  # L. 104/92 art. 3 c. 3
    accompagnamento: bool  # indennità di accompagnamento
    vive_solo: bool
    nato_il: date | None
    adl: int
    iadl: int


@dataclass(frozen=True)
class Component:
    key: str  # the key of the snapshot's "dettaglio"
    label: str  # Italian column heading
    rule: str  # Italian description of how the points are given
    fields: tuple[str, ...]  # application fields it reads (their access class decides who sees the points)
    points: Callable[[Applicant, int], Decimal]  # (applicant, reference year) -> points


ISEE_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(5000), 30), (Decimal(10000), 24), (Decimal(15000), 18), (Decimal(20000), 12), (Decimal(25000), 6),
)
ISEE_ABOVE_BANDS = 3


def _isee_points(a: Applicant, year: int) -> Decimal:
    for cap, points in ISEE_BANDS:
        if a.isee <= cap:
            return Decimal(points)
    return Decimal(ISEE_ABOVE_BANDS)


def _severity_points(a: Applicant, year: int) -> Decimal:
    return Decimal(20 if a.grave and a.accompagnamento else 10)


def _alone_points(a: Applicant, year: int) -> Decimal:
    return Decimal(10 if a.vive_solo else 0)


def age_in_year(born: date, year: int) -> int:
    """The age reached during `year` (the call's year)."""
    return year - born.year


def _age_points(a: Applicant, year: int) -> Decimal:
    if a.nato_il is None:
        return Decimal(0)
    age = age_in_year(a.nato_il, year)
    if age < 18 or age >= 85:
        return Decimal(6)
    return Decimal(4 if age >= 75 else 0)


SCORING: tuple[Component, ...] = (
    Component("isee", "Fascia ISEE", "≤ 5.000 € 30; ≤ 10.000 € 24; ≤ 15.000 € 18; ≤ 20.000 € 12; ≤ 25.000 € 6; "
              "oltre 3", ("isee",), _isee_points),
    Component("gravita", "Gravità", "disabilità grave e indennità di accompagnamento 20; una sola delle due 10",
              ("invalidita_104_art3c3", "indennita_accompagnamento"), _severity_points),
    Component("solitudine", "Vive solo", "vive solo o senza caregiver 10", ("vive_solo",), _alone_points),
    Component("eta", "Età", "minore o 85 anni e più nell'anno del bando 6; da 75 anni 4",
              ("persona",), _age_points),
    Component("adl", "ADL", "3 punti per ogni funzione ADL persa (0-6)", ("adl",),
              lambda a, y: Decimal(3 * a.adl)),
    Component("iadl", "IADL", "1 punto per ogni funzione IADL persa (0-8)", ("iadl",),
              lambda a, y: Decimal(a.iadl)),
)
COMPONENT_KEYS = tuple(c.key for c in SCORING)
TIE_BREAKS = "a parità di punteggio precede l'ISEE più basso, poi il numero di protocollo anteriore"


def applicant_from(data: Mapping[str, Any], born: date | None) -> Applicant | None:
    """The score's inputs from an application's data; None if it has not been assessed (no ADL/IADL)."""
    if data.get("adl") is None or data.get("iadl") is None:
        return None
    isee = data.get("isee") or {}
    return Applicant(
        isee=Decimal(str(isee.get("valore", "0"))),
        grave=bool(data.get("invalidita_104_art3c3")),
        accompagnamento=bool(data.get("indennita_accompagnamento")),
        vive_solo=bool(data.get("vive_solo")),
        nato_il=born,
        adl=int(data["adl"]),
        iadl=int(data["iadl"]),
    )


def breakdown(applicant: Applicant, year: int) -> dict[str, Decimal]:
    return {c.key: c.points(applicant, year) for c in SCORING}


def score(detail: Mapping[str, Decimal]) -> Decimal:
    return sum((Decimal(str(v)) for v in detail.values()), Decimal(0))


def protocol_key(protocollo: str) -> tuple:
    """Protocol numbers in their natural order ("CSC-2026-0042" before "CSC-2026-0100", "9" before "10")."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", protocollo or ""))


@dataclass
class Entry:
    """One application in a ranking."""

    domanda: int
    protocollo: str
    punteggio: Decimal
    dettaglio: dict[str, Decimal]
    isee: Decimal
    importo_annuo: Decimal = Decimal(0)  # assigned if funded, else requested
    extra: dict[str, Any] = field(default_factory=dict)  # what a page adds (state, comune...)
    posizione: int = 0
    cumulato: Decimal = Decimal(0)
    finanziabile: bool = False


def rank(entries: Iterable[Entry]) -> list[Entry]:
    """Sorted by score (highest first), then lower ISEE, then earlier protocol; positions from 1."""
    ordered = sorted(entries, key=lambda e: (-e.punteggio, e.isee, protocol_key(e.protocollo), e.domanda))
    for i, e in enumerate(ordered, start=1):
        e.posizione = i
    return ordered


def apply_cut_off(ordered: Sequence[Entry], budget: Decimal) -> int | None:
    """Mark the fundable entries; returns the index of the first one below the line (None: all fit)."""
    total = Decimal(0)
    cut: int | None = None
    for i, e in enumerate(ordered):
        total += e.importo_annuo
        e.cumulato = total
        if cut is None and total <= budget:
            e.finanziabile = True
        else:
            if cut is None:
                cut = i
            e.finanziabile = False
    return cut
