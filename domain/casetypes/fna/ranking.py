"""The FNA B2 ranking (graduatoria), DOMAIN.md §5c "Ranking [A]": score, tie-breaks, funding cut-off. Pure.

The declaration of the call (domain/casetypes/fna/bando.py) records ranking snapshots (`Graduatoria`: each
application's score and its breakdown) but says nothing about how the score is made; the rules live here
as data (`SCORING`: one `Component` per part of the score, with the application fields it reads) and
functions, read by the ranking pages, the publication of a ranking and the tests.

Score = ISEE band + severity (both L. 104/92 art. 3 c. 3 and attendance allowance score higher) + living
alone or without a caregiver + age + ADL + IADL, the same points the demo district uses [A].
Ties: lower ISEE first, then the earlier protocol number (DOMAIN.md §5c).
Cut-off: in ranking order, applications are fundable while the cumulative annual amount stays within the
call's budget; the first that does not fit draws the line and everything below it is not fundable.
Scorrimento (DOMAIN.md §1): an application that leaves the ranking after it (withdrawal, lapse) frees its
amount, so the next ones move up; funding follows the ranking (`waiting_ahead`).

One computation (`ranking_of`) serves the ranking pages, the published snapshots (the call's ranking steps
compute their positions through it, never taking them from the client) and the funding guard.
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
# Funded and still running: their amount is committed on the call (store/cases.py COMMITTED_STATES).
COMMITTED_STATES = tuple(s for s in FUNDED_STATES if s != "LAPSED")
# Admitted, neither funded nor out of the ranking: they wait their turn in ranking order.
WAITING_STATES = ("ELIGIBLE", "NOT_FUNDED")
# Out of the ranking after admission: their amount counts no more (scorrimento) and the outcome says why.
LEFT_STATES = {"WITHDRAWN": "Rinuncia", "LAPSED": "Decaduta", "NOT_ADMITTED": "Non ammessa",
               "ARCHIVED": "Archiviata"}
APPLICATION = "fna_domanda"  # the case type ranked (domain/casetypes/fna/domanda.py)
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
    stato: str | None = None  # the application's state now (None: unknown to the reader)
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
    """Mark the fundable entries; returns the index of the first one below the line (None: all fit).
    An entry that left the ranking (withdrawn, lapsed) neither counts nor is fundable: its amount is freed."""
    total = Decimal(0)
    cut: int | None = None
    for i, e in enumerate(ordered):
        if e.stato in LEFT_STATES:
            e.cumulato, e.finanziabile = total, False
            continue
        total += e.importo_annuo
        e.cumulato = total
        if cut is None and total <= budget:
            e.finanziabile = True
        else:
            if cut is None:
                cut = i
            e.finanziabile = False
    return cut


def outcome(e: Entry) -> str:
    """The outcome shown in a ranking (pages, public ranking, CSV), after `apply_cut_off`."""
    if e.stato in COMMITTED_STATES:
        return "Finanziata"
    if e.stato in LEFT_STATES:
        return LEFT_STATES[e.stato]
    if e.finanziabile:
        return "Finanziabile"
    return "Ammessa non finanziata" if e.stato == "NOT_FUNDED" else "Non finanziabile (budget esaurito)"


# ----------------------------------------------------------------------------- the one computation


@dataclass(frozen=True)
class Candidate:
    """An application of the call as the ranking reads it: its id, state, data and the person's birth date."""

    domanda: int
    stato: str
    data: Mapping[str, Any]
    nato_il: date | None


def protocol_of(domanda: int, data: Mapping[str, Any]) -> str:
    return str(data.get("protocollo") or f"domanda {domanda}")


def annual_amount(stato: str, data: Mapping[str, Any]) -> Decimal:
    """The amount assigned if funded, else the monthly amount proposed by the assessment × 12."""
    if stato in FUNDED_STATES and data.get("importo_annuo") is not None:
        return Decimal(str(data["importo_annuo"]))
    return Decimal(str(data.get("importo_mensile_proposto") or 0)) * MONTHS_PER_YEAR


def reference_year(call_data: Mapping[str, Any], fallback: date) -> int:
    """The call's year (its closing date's), which the age points read."""
    closes = call_data.get("chiusura")
    return date.fromisoformat(str(closes)[:10]).year if closes else fallback.year


def ranking_of(candidates: Iterable[Candidate], year: int) -> list[Entry]:
    """The ranking of the admitted and assessed applications, in order, positions from 1."""
    entries = []
    for c in candidates:
        if c.stato not in RANKED_STATES:
            continue
        applicant = applicant_from(c.data, c.nato_il)
        if applicant is None:
            continue
        detail = breakdown(applicant, year)
        entries.append(Entry(c.domanda, protocol_of(c.domanda, c.data), score(detail), detail, applicant.isee,
                             annual_amount(c.stato, c.data), stato=c.stato))
    return rank(entries)


def ranking_of_call(world: Any, call: Any, current: Any = None) -> list[Entry]:
    """The call's ranking now, from its applications as the engine's World reads them (domain/engine.py);
    `current`, an application being decided, as the engine sees it (the same as stored, or not yet stored)."""
    def born(person: Mapping[str, Any] | None) -> date | None:
        value = (person or {}).get("data_nascita")
        return value if isinstance(value, date) or value is None else date.fromisoformat(str(value)[:10])

    apps = {a.id: a for a in world.related_cases(call.id, APPLICATION)}
    if current is not None:
        apps[current.id] = current
    candidates = [Candidate(a.id, a.state, a.data, born(a.person)) for a in apps.values()]
    return ranking_of(candidates, reference_year(call.data, call.opened_on))


def positions(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """A published snapshot's positions (domain/casetypes/fna/bando.py `PosizioneGraduatoria`)."""
    return [{"domanda": e.domanda, "protocollo": e.protocollo, "punteggio": e.punteggio, "dettaglio": e.dettaglio}
            for e in entries]


def waiting_ahead(ordered: Sequence[Entry], domanda: int) -> Entry | None:
    """The first better-ranked application still waiting (neither funded nor out): funding `domanda` before it
    would skip the ranking. None when every application ahead is funded or out (or `domanda` is unranked)."""
    for e in ordered:
        if e.domanda == domanda:
            return None
        if e.stato in WAITING_STATES:
            return e
    return None
