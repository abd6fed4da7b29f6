"""FNA call administration pages: calls, a call's applications, its ranking and the public ranking.

Authorisation stays here (not in the routes): the call is read through `read_case` (AccessDenied for roles
that may not read district records); a call's applications are listed within `scoped_filter`'s scope and
their score breakdown is shown only for applications the user may read, component by component according
to the field classes the user sees (a CSC administrator sees the ISEE band but not the ADL points); reading
health-derived points is logged like any health read. The internal ranking is for the roles that administer
calls (`RANKING_ROLES` [A]); the public ranking carries protocol numbers, score, position and outcome only.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.access import (
    AccessDenied,
    CaseRef,
    FieldClass,
    Principal,
    field_class,
    is_minor,
    read_refusal,
    visible_fields,
)
from domain.casetypes.fna import APPLICATION, CALL, calls_refusal
from domain.casetypes.fna import ranking as rk
from domain.errors import NotFound
from domain.registry import get_workflow
from domain.workflow import Role
from reports import csv_safe
from services.access import ScopedCaseService, scoped_filter
from services.case_pages import case_type_of
from store import fna as fna_reads
from store import health_log
from store.sealed import merge
from store.uow import writing

R = Role
# Who reads a call's internal ranking (scores with their breakdown) [A]: the roles that administer the call
# (DOMAIN.md §2: planning office — calls and rankings; CSC — checks and payments) and the coordinators.
RANKING_ROLES = frozenset({R.PLANNING_OFFICE, R.CSC_ADMIN, R.SUBAREA_COORDINATOR})
RANKING_PAGE = 50  # positions on a page of the ranking
RANKING_MAX_PAGE = 500
PHASES = ("definitiva", "provvisoria", "proposta")
SNAPSHOTS = {"pubblica_graduatoria_provvisoria": "provvisoria", "pubblica_graduatoria_definitiva": "definitiva"}
PUBLISH = {"provvisoria": ("pubblica_graduatoria_provvisoria", "CLOSED"),
           "definitiva": ("pubblica_graduatoria_definitiva", "RANKING_PROVISIONAL")}


def ranking_refusal(principal: Principal) -> str | None:
    reason = calls_refusal(principal)
    if reason is not None:
        return reason
    if principal.role not in RANKING_ROLES:
        return ("la graduatoria con il dettaglio dei punteggi è riservata a Ufficio di Piano, CSC e "
                "coordinatori di sub-ambito")
    return None


def _read_call(scoped: ScopedCaseService, principal: Principal, call_id: int,
               refusal: Callable[[Principal], str | None]) -> dict[str, Any]:
    """The call as `principal` may read it, after the page's role check; NotFound if the case is no call."""
    _require(refusal(principal))
    if case_type_of(scoped.engine, call_id) != CALL:  # before reading: a refused id leaves no health-read row
        raise NotFound(f"il caso {call_id} non è un bando FNA")
    return scoped.read(principal, call_id)


def _require(reason: str | None) -> None:
    if reason is not None:
        raise AccessDenied(reason)


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _points(value: Any) -> Decimal:
    """Points as stored in a snapshot (JSON may give 30.0 or "30") shown as 30, or 2.5 as 2.5. A snapshot
    repeats a few values thousands of times: each is converted once (a Decimal is immutable)."""
    try:
        return _points_of(value)
    except TypeError:  # not hashable: converted as it is
        return _points_of.__wrapped__(value)


@lru_cache(maxsize=4096, typed=True)
def _points_of(value: Any) -> Decimal:
    d = _d(value)
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# ----------------------------------------------------------------------------- calls


def list_calls(engine: Engine, principal: Principal, *, today: date) -> list[dict[str, Any]]:
    _require(calls_refusal(principal))
    wf = get_workflow(CALL)
    rows = fna_reads.calls(engine, scoped_filter(principal, today=today), call_type=CALL,
                           application_type=APPLICATION)
    return [{
        "id": r.id, "titolo": (r.data or {}).get("titolo") or f"Bando {r.id}", "stato": r.state,
        "stato_etichetta": wf.state(r.state).label, "anno_fna": (r.data or {}).get("anno_fna"),
        "budget": (r.data or {}).get("budget"), "apertura": (r.data or {}).get("apertura"),
        "chiusura": (r.data or {}).get("chiusura"), "domande": r.domande,
    } for r in rows]


@dataclass
class _Application:
    id: int
    state: str
    data: dict[str, Any]
    comune: str | None
    ref: CaseRef
    born: date | None

    @property
    def protocollo(self) -> str:
        return str(self.data.get("protocollo") or f"domanda {self.id}")


def _applications(engine: Engine, call_id: int, today: date, scope: sa.ColumnElement[bool] | None = None, *,
                  health: bool = True) -> list[_Application]:
    """The call's applications; with `health` their sealed parts decrypted (a score computed now needs ADL/IADL;
    a published ranking carries its own points, so reading it needs none)."""
    rows, health = fna_reads.applications(engine, call_id, application_type=APPLICATION, scope=scope, health=health)
    return [_Application(r.id, r.state, merge(r.data, health.get(r.id)), r.nome,
                         CaseRef(APPLICATION, r.comune_istat, r.sub_ambito, r.owner, r.provider_codice,
                                 is_minor(r.data_nascita, today), r.state, ambito=r.ambito_code),
                         r.data_nascita) for r in rows]


def _reference_year(call_data: dict[str, Any], fallback: date) -> int:
    return rk.reference_year(call_data, fallback)


def _annual_amount(app: _Application) -> Decimal:
    return rk.annual_amount(app.state, app.data)


def _computed_score(app: _Application, year: int) -> tuple[Decimal, dict[str, Decimal]] | None:
    applicant = rk.applicant_from(app.data, app.born)
    if applicant is None:
        return None
    detail = rk.breakdown(applicant, year)
    return rk.score(detail), detail


def call_page(scoped: ScopedCaseService, principal: Principal, call_id: int) -> dict[str, Any]:
    engine, today = scoped.engine, scoped.today()
    call = _read_call(scoped, principal, call_id, calls_refusal)
    year = _reference_year(call["dati"], today)
    wf = get_workflow(APPLICATION)
    rows = []
    for app in _applications(engine, call_id, today, scoped_filter(principal, today=today)):
        # protocol, score and amount are administrative data: shown only to who sees that class of the application
        admin = FieldClass.ADMINISTRATIVE in visible_fields(principal, app.ref)
        computed = _computed_score(app, year) if admin else None
        rows.append({"id": app.id, "protocollo": app.protocollo if admin else f"domanda {app.id}",
                     "stato": app.state, "stato_etichetta": wf.state(app.state).label, "comune": app.comune,
                     "punteggio": computed[0] if computed else None,
                     "importo_annuo": _annual_amount(app) if admin and app.data.get("importo_mensile_proposto")
                     else None})
    rows.sort(key=lambda r: rk.protocol_key(r["protocollo"]))
    allowed = scoped.allowed(principal, call_id)
    cwf = get_workflow(CALL)
    return {
        "bando": call,
        "domande": rows,
        "transizioni": [{"nome": n, "etichetta": cwf.transition(n).label} for n in allowed],
        "graduatoria_consultabile": ranking_refusal(principal) is None,
    }


# ----------------------------------------------------------------------------- rankings


def _visible_components(principal: Principal, app: _Application) -> frozenset[str]:
    classes = visible_fields(principal, app.ref)
    return frozenset(c.key for c in rk.SCORING
                     if all(field_class(APPLICATION, f) in classes for f in c.fields))


def _health_fields(components: frozenset[str]) -> list[str]:
    return sorted({f for c in rk.SCORING if c.key in components for f in c.fields
                   if field_class(APPLICATION, f) is FieldClass.HEALTH})


def _entries(apps: dict[int, _Application], positions: list[dict[str, Any]] | None, year: int,
             wf) -> list[rk.Entry]:
    """Entries of a published snapshot (its order and scores), or the ranking computed now from the admitted
    applications by the one computation the ranking steps use (ranking.ranking_of); each with its state now."""
    if positions is None:
        ordered = rk.ranking_of((rk.Candidate(a.id, a.state, a.data, a.born) for a in apps.values()), year)
    else:
        ordered = []
        for i, p in enumerate(positions, start=1):
            app = apps.get(int(p["domanda"]))
            isee = _d(((app.data if app else {}).get("isee") or {}).get("valore"))
            e = rk.Entry(int(p["domanda"]), str(p["protocollo"]), _points(p["punteggio"]),
                         p.get("dettaglio") or {}, isee,  # as recorded: converted for the rows a page shows
                         _annual_amount(app) if app else Decimal(0), stato=app.state if app else None)
            e.posizione = i
            ordered.append(e)
    for e in ordered:
        app = apps.get(e.domanda)
        e.extra = {"stato": e.stato, "stato_etichetta": wf.state(app.state).label if app else "—",
                   "comune": app.comune if app else None}
    return ordered


def _section(title: str, fase: str, entries: list[rk.Entry], budget: Decimal, atto: str | None,
             published: str | None) -> dict[str, Any]:
    cut = rk.apply_cut_off(entries, budget)
    for e in entries:
        e.extra["esito"] = rk.outcome(e)
    return {"titolo": title, "fase": fase, "righe": entries, "taglio": cut, "atto": atto, "pubblicata_il": published,
            "totale_finanziabile": sum((e.importo_annuo for e in entries if e.finanziabile), Decimal(0))}


def _paged(section: dict[str, Any], number: int, size: int) -> None:
    """Cut a section's rows to page `number` (positions (number-1)*size+1 to number*size); the funding line is
    drawn on the page where it falls (`taglio`: its index on this page, else None) and `pagina_taglio` says
    which page that is."""
    rows, cut = section["righe"], section["taglio"]
    count = max(1, -(-len(rows) // size))
    number = number if 1 <= number <= count else 1
    start = (number - 1) * size
    section.update({
        "righe": rows[start:start + size], "totale": len(rows), "pagina": number, "pagine": count,
        "dalla": start + 1, "alla": min(start + size, len(rows)), "per_pagina": size,
        "taglio": cut - start if cut is not None and start <= cut < start + size else None,
        "pagina_taglio": cut // size + 1 if cut is not None else None,
        "posizione_taglio": cut + 1 if cut is not None else None,
    })


def _snapshots(call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The latest published snapshot of each phase, from the call's history."""
    found: dict[str, dict[str, Any]] = {}
    for row in call.get("storia", []):
        fase = SNAPSHOTS.get(row["transizione"])
        if fase and isinstance(row.get("dati"), dict) and "posizioni" in row["dati"]:
            found[fase] = {"posizioni": row["dati"]["posizioni"], "atto": row["dati"].get("atto"),
                           "pubblicata_il": row["efficace_il"]}
    return found


def ranking_page(scoped: ScopedCaseService, principal: Principal, call_id: int, *,
                 pages: dict[str, int] | None = None, size: int = RANKING_PAGE) -> dict[str, Any]:
    """The provisional and final rankings (published snapshots) and, until the final one, the proposal
    computed from the admitted applications; each with its cut-off against the call's budget. Each ranking is
    computed whole (the domain's rules, in memory) and shown in pages by position: `pages` = {phase: page
    number} (1 if absent or beyond the end), `size` positions a page; only the rows shown are checked for
    what the user may see and logged as health reads."""
    engine, today = scoped.engine, scoped.today()
    call = _read_call(scoped, principal, call_id, ranking_refusal)
    year = _reference_year(call["dati"], today)
    budget = _d(call["dati"].get("budget"))
    wf = get_workflow(APPLICATION)
    snaps = _snapshots(call)
    # only a proposal computed now scores the applications (ADL/IADL, sealed); the published rankings carry
    # their points, and the page shows of each application only its state, comune and amount (not sealed)
    apps = {a.id: a for a in _applications(engine, call_id, today, health="definitiva" not in snaps)}
    sections = []
    if "definitiva" in snaps:
        s = snaps["definitiva"]
        sections.append(_section("Graduatoria definitiva", "definitiva", _entries(apps, s["posizioni"], year, wf),
                                 budget, s["atto"], s["pubblicata_il"]))
    if "provvisoria" in snaps:
        s = snaps["provvisoria"]
        sections.append(_section("Graduatoria provvisoria", "provvisoria",
                                 _entries(apps, s["posizioni"], year, wf), budget, s["atto"], s["pubblicata_il"]))
    if "definitiva" not in snaps:
        sections.insert(0, _section("Proposta di graduatoria (calcolata ora dalle domande ammesse)", "proposta",
                                    _entries(apps, None, year, wf), budget, None, None))
    size = min(max(size, 1), RANKING_MAX_PAGE)
    for section in sections:
        _paged(section, (pages or {}).get(section["fase"], 1), size)
        for e in section["righe"]:  # a snapshot's points as numbers, for the rows shown (50 of ~300)
            e.dettaglio = {k: _points(v) for k, v in e.dettaglio.items()}
    # what the user may see of each application's breakdown; health-derived points shown are logged
    shown: dict[int, frozenset[str]] = {}
    for section in sections:
        for e in section["righe"]:
            app = apps.get(e.domanda)
            if e.domanda not in shown:
                readable = app is not None and read_refusal(principal, app.ref) is None
                shown[e.domanda] = _visible_components(principal, app) if readable else frozenset()
            e.extra["visibili"] = shown[e.domanda]
            e.extra["leggibile"] = bool(shown[e.domanda])
    _log_health_reads(engine, principal, {d: _health_fields(c) for d, c in shown.items()}, scoped.service.clock())
    publishable = None
    if principal.role is R.PLANNING_OFFICE:
        for fase, (transition, state) in PUBLISH.items():
            if call["stato"] == state:
                publishable = {"fase": fase, "etichetta": get_workflow(CALL).transition(transition).label}
    return {"bando": call, "sezioni": sections, "componenti": rk.SCORING, "budget": budget,
            "criteri_parita": rk.TIE_BREAKS, "pubblicabile": publishable}


def _log_health_reads(engine: Engine, principal: Principal, fields_by_case: dict[int, list[str]],
                      at: datetime) -> None:
    """One append-only health-read row per application whose health-derived points were shown, in one
    transaction (a ranking shows hundreds of applications); the same rows as services.access.log_health_read."""
    rows = [{"case_id": case_id, "username": principal.username, "role": principal.role.value,
             "read_at": at.astimezone(UTC), "fields": fields, "context": "graduatoria_fna"}
            for case_id, fields in sorted(fields_by_case.items()) if fields]
    if rows:
        with writing(engine) as conn:
            health_log.append(conn, rows)


def publish_ranking(scoped: ScopedCaseService, principal: Principal, call_id: int, fase: str, atto: str,
                    expected_version: int | None) -> int:
    """Publish the ranking of phase `fase` (an immutable snapshot with each application's breakdown): the
    ranking computed when the step fires from the admitted applications, so the final one takes in the
    observations accepted after the provisional one."""
    if fase not in PUBLISH:
        raise AccessDenied("fase della graduatoria sconosciuta")
    _read_call(scoped, principal, call_id, ranking_refusal)
    transition, _ = PUBLISH[fase]
    # the positions are computed by the step itself (domain/casetypes/fna/bando.py), in its unit of work
    return scoped.advance(principal, case_id=call_id, transition=transition, data={"atto": atto},
                          expected_version=expected_version)


def public_ranking(scoped: ScopedCaseService, principal: Principal, call_id: int) -> dict[str, Any]:
    """The latest published ranking, pseudonymised: protocol number, score, position, outcome. Nothing else."""
    engine, today = scoped.engine, scoped.today()
    call = _read_call(scoped, principal, call_id, calls_refusal)
    snaps = _snapshots(call)
    fase = "definitiva" if "definitiva" in snaps else "provvisoria" if "provvisoria" in snaps else None
    rows: list[dict[str, Any]] = []
    if fase:
        apps = {a.id: a for a in _applications(engine, call_id, today, health=False)}  # the snapshot's points
        entries = _entries(apps, snaps[fase]["posizioni"], _reference_year(call["dati"], today),
                           get_workflow(APPLICATION))
        _section("", fase, entries, _d(call["dati"].get("budget")), None, None)
        rows = [{"posizione": e.posizione, "protocollo": e.protocollo, "punteggio": e.punteggio,
                 "esito": e.extra["esito"]} for e in entries]
    return {"titolo": call["dati"].get("titolo") or f"Bando {call_id}", "id": call_id, "fase": fase,
            "atto": snaps[fase]["atto"] if fase else None,
            "pubblicata_il": snaps[fase]["pubblicata_il"] if fase else None, "righe": rows}


def number_it(value: Decimal) -> str:
    """42 -> "42", 42.5 -> "42,5" (Italian decimal comma)."""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def public_ranking_csv(page: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv_safe.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Posizione", "Protocollo", "Punteggio", "Esito"])
    for r in page["righe"]:
        writer.writerow([r["posizione"], r["protocollo"], number_it(r["punteggio"]), r["esito"]])
    return out.getvalue()
