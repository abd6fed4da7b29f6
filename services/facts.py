"""Facts in the data that meet district obligations (config/obligations.toml names them).

The district obligations are the Ambito's, not a case type's; the facts that read a type's cases take its
names and states from its package (domain/casetypes/), and the ISEE renewal reads each type's declared
`isee_renewal_states`.

Each fact answers, for one occurrence of an obligation, which scope keys are still pending (not met),
with what the reminder needs to say about them. Manual decisions are applied by the caller. The reads are in
store/obligations.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Connection

from domain.casetypes.fna import CALL, CALL_OPEN
from domain.casetypes.patto import PATTO_ACTIVATION, PATTO_TYPE
from domain.casetypes.sad import ADHESION, ADHESION_PENDING, MONTHLY_LOG, REPORTING_STATES, SAD_CASE
from domain.obligations import Obligation
from domain.registry import all_case_types
from services.directory import Directory
from store import obligations as store


@dataclass(frozen=True)
class Pending:
    scope_key: str
    detail: str  # what is missing, in Italian
    comune: str | None = None
    owner: str | None = None
    provider: str | None = None
    sub_ambito: str | None = None
    case_id: int | None = None


Fact = Callable[..., list[Pending]]  # (conn, directory, obligation, due, as_of[, scope=]) -> pending
FACTS: dict[str, Fact] = {}
SCOPED: set[str] = set()  # facts over cases that take a case scope: a reader's Oggi reads only their cases
BY_AMBITO: set[str] = set()  # facts of one Ambito's office that take its code (`ambito=`; None: the whole instance)


def fact(name: str, *, scoped: bool = False, by_ambito: bool = False):
    def register(fn: Fact) -> Fact:
        FACTS[name] = fn
        if scoped:
            SCOPED.add(name)
        if by_ambito:
            BY_AMBITO.add(name)
        return fn

    return register


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), timezone.utc)


@fact("misura_abitativa_attivata")
def housing_measure_activated(conn, directory, ob, due, as_of) -> list[Pending]:
    """Each sub-ambito needs, in the year up to the due date, a patto activated with rent (affitto) support."""
    start, end = date(due.year, 1, 1), min(due, as_of)
    rows = store.steps_in_window(conn, PATTO_TYPE, PATTO_ACTIVATION, _utc_start(start),
                                 _utc_start(end + timedelta(days=1)), ("misura_economica", "voci"))
    met = {directory.comune_area.get(r.comune_istat) for r in rows if "affitto" in (r.value or [])}
    return [Pending(area, f"nessuna misura abitativa attivata nel sub-ambito {area}", sub_ambito=area)
            for area in sorted(directory.coordinator_email) if area not in met]


@fact("bando_chiuso")
def call_closed(conn, directory, ob, due, as_of) -> list[Pending]:
    rows = store.cases_in_state(conn, CALL, CALL_OPEN)
    return [Pending(f"bando:{r.id}", f"bando «{r.data.get('titolo', r.id)}» ancora aperto", case_id=r.id)
            for r in rows if r.data.get("chiusura") == due.isoformat()]



@fact("isee_rinnovato", scoped=True)
def isee_renewed(conn, directory, ob, due, as_of, scope=None) -> list[Pending]:
    """Active beneficiaries whose ISEE is not of the year after the due date's year (within `scope`, if given:
    a year-end list holds every active case of the district)."""
    pending = []
    for case_type, states in ((ct.case_type, ct.isee_renewal_states) for ct in all_case_types()
                              if ct.isee_renewal_states):
        for r in store.isee_dsu_of_cases_in_states(conn, case_type, states, scope=scope):
            year = (r.data_dsu or "")[:4]
            if int(year if year.isdigit() else 0) <= due.year:
                pending.append(Pending(f"caso:{r.id}", f"ISEE da rinnovare (DSU {year or '—'})",
                                       comune=r.comune_istat, owner=r.owner, case_id=r.id))
    return pending


@fact("registro_visite_mese_precedente")
def monthly_visit_log(conn, directory, ob, due, as_of) -> list[Pending]:
    """Every provider with SAD users active before the month must log that month's visits by the due date."""
    month_start = (due.replace(day=1) - timedelta(days=1)).replace(day=1)
    active = store.providers_of_cases_in_states_since(conn, SAD_CASE, REPORTING_STATES, _utc_start(month_start))
    if not active:
        return []
    logged = store.text_of_steps(conn, MONTHLY_LOG, [r.id for r in active], "mese")
    done = {row.case_id for row in logged if str(row.value or "")[:7] == f"{month_start:%Y-%m}"}
    missing: dict[str, int] = {}
    for r in active:
        if r.id not in done and r.provider_codice:
            missing[r.provider_codice] = missing.get(r.provider_codice, 0) + 1
    return [Pending(f"ente:{codice}", f"registro di {month_start:%m/%Y} mancante per {n} utenti", provider=codice)
            for codice, n in sorted(missing.items())]


@fact("adesioni_sad")
def provider_adhesions(conn, directory, ob, due, as_of) -> list[Pending]:
    """Providers invited to the SAD experiment that have not yet answered or signed their pact."""
    rows = store.providers_in_states(conn, ADHESION, ADHESION_PENDING)
    what = ADHESION_PENDING
    return [Pending(f"ente:{r.provider_codice}",
                    f"{directory.providers[r.provider_codice].nome} {what[r.state]}", provider=r.provider_codice)
            for r in sorted(rows, key=lambda r: r.provider_codice)]


@fact("prestazioni_siuss_inviate", by_ambito=True)
def siuss_benefits_sent(conn, directory, ob, due, as_of, ambito: str | None = None) -> list[Pending]:
    """The benefits of the Ambito's cases (`ambito`; None: the whole instance) granted, changed or retracted by
    the end of the month before the due date that no SIUSS flow has sent yet (services/siuss.py): the Ufficio di
    Piano exports that month. Counted from the answer the night kept plus what changed since (`pending_cases`)."""
    from services.siuss import pending_cases

    month_end = due.replace(day=1) - timedelta(days=1)
    found = pending_cases(conn, month_end, ambito)
    if not found:
        return []
    return [Pending(f"siuss:{month_end:%Y-%m}", f"{len(found)} prestazioni non ancora inviate al Casellario "
                    f"dell'Assistenza: legami siuss esporta --periodo {month_end:%Y-%m}")]


def keep_siuss(engine, ob, dues: list[date], ambito: str | None) -> None:
    """The night keeps the SIUSS fact's answer for each occurrence it may be read for (services/siuss.py)."""
    from services.siuss import keep_pending

    for month_end in sorted({due.replace(day=1) - timedelta(days=1) for due in dues}):
        keep_pending(engine, month_end, ambito)


KEEPERS: dict[str, Callable[..., None]] = {"prestazioni_siuss_inviate": keep_siuss}  # fact -> its night keeper


@fact("manuale")
def manual_only(conn, directory, ob, due, as_of) -> list[Pending]:
    return [Pending("ambito", "da registrare come adempiuto, con motivo")]


def evidence(conn: Connection, directory: Directory, ob: Obligation, due: date, as_of: date,
             scope: Any = None, ambito: str | None = None) -> list[Pending]:
    """What is still pending for this occurrence; with `scope` (an SQL condition over case_file, from the access
    module) a fact over cases reads only the cases in it, the others everything; an Ambito office's fact reads
    `ambito`'s cases (None: the whole instance)."""
    fn = FACTS.get(ob.fact)
    if fn is None:
        raise ValueError(f"obbligo {ob.code}: fatto «{ob.fact}» sconosciuto")
    if ob.fact in BY_AMBITO:
        return fn(conn, directory, ob, due, as_of, ambito=ambito)
    if scope is not None and ob.fact in SCOPED:
        return fn(conn, directory, ob, due, as_of, scope=scope)
    return fn(conn, directory, ob, due, as_of)
