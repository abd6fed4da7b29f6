"""District obligations: which occurrences are live, which scopes are still pending, reminders to send."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Connection, Engine

from config.obligation_files import load_obligations
from domain.casetypes.fna import CALL, CALL_OPEN
from domain.engine import Actor
from domain.errors import InvalidData, NotFound, RoleNotAllowed
from domain.obligations import Obligation, steps_due
from domain.validation import FieldError
from services.digest import DigestBook, flush
from services.directory import Directory
from services.facts import KEEPERS, Pending, evidence
from store import obligations as store
from store.uow import reading, writing

STALE_AFTER_DAYS = 30  # an occurrence falls silent this long after its last step


@dataclass
class ObligationResult:
    as_of: date
    queued: int = 0
    occurrences: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"al": self.as_of.isoformat(), "accodati": self.queued, "obblighi": self.occurrences}


def occurrences(conn: Connection, ob: Obligation, as_of: date) -> list[date]:
    """Due dates of `ob` whose reminder window contains `as_of`."""
    if ob.schedule.kind == "call_closing":
        rows = store.data_of_cases_in_state(conn, CALL, CALL_OPEN)
        dues = sorted({date.fromisoformat(d["chiusura"]) for d in rows if d.get("chiusura")})
    else:
        dues = ob.schedule.due_dates(as_of)
    return [d for d in dues
            if d + timedelta(days=ob.first_step()) <= as_of <= d + timedelta(days=ob.last_step() + STALE_AFTER_DAYS)]


def pending_for(conn: Connection, directory: Directory, ob: Obligation, due: date, as_of: date,
                scope: Any = None, ambito: str | None = None) -> list[Pending]:
    """What is still pending, manual decisions applied; `scope`, `ambito`: see `facts.evidence`."""
    manual = store.manually_met(conn, ob.code, ob.period_of(due))
    return [p for p in evidence(conn, directory, ob, due, as_of, scope, ambito) if p.scope_key not in manual]


def run_obligations_check(engine: Engine, *, as_of: date, obligations: list[Obligation] | None = None,
                          ambito: str | None = None) -> ObligationResult:
    """The check for the whole instance, or for one Ambito (`ambito`, its code): that Ambito's calendar
    (its obligations.toml by config/locate.py) over its cases, comuni and sub-ambiti; what names no comune
    and no sub-ambito (district-wide) belongs to the default Ambito, as a case placed in no comune does."""
    from services.sweep import ambito_dir_of, ambito_scope_of
    from store.ambito_filter import case_in_ambito

    scope = ambito_scope_of(engine, ambito)
    if obligations is None:
        obligations = load_obligations(ambito_dir=ambito_dir_of(engine, ambito))
    result = ObligationResult(as_of)
    book = DigestBook(as_of)
    keep_answers(engine, obligations, as_of, scope.code if scope else None)
    with reading(engine) as conn:
        directory = Directory(conn)
        mine = _in_scope(scope, directory)
        for ob in obligations:
            for due in occurrences(conn, ob, as_of):
                pending = [p for p in pending_for(conn, directory, ob, due, as_of,
                                                  case_in_ambito(scope) if scope else None,
                                                  scope.code if scope else None) if mine(p)]
                steps = steps_due(ob, due, as_of) if pending else []
                result.occurrences.append(_overview(ob, due, as_of, pending, steps))
                earlier = _earlier_reminders(conn, ob, ob.period_of(due)) if any(s.escalation for s in steps) else {}
                for step in steps:
                    for p in pending:
                        item = _item(ob, due, as_of, p, step.escalation, directory, earlier.get(p.scope_key, []))
                        for token in step.recipients:
                            for who in directory.resolve(token, comune=p.comune, owner=p.owner, provider=p.provider,
                                                         sub_ambito=p.sub_ambito):
                                key = f"obbligo:{ob.code}:{ob.period_of(due)}:{p.scope_key}:{step.stage}:{who.key}"
                                book.add(who, key, item, stage=step.stage,
                                         obligation=(ob.code, ob.period_of(due), p.scope_key))
    with writing(engine) as conn:
        result.queued = flush(conn, book)
    return result


def _in_scope(scope, directory: Directory):
    """Whether a pending item belongs to the Ambito `scope` (None: every item)."""
    if scope is None:
        return lambda p: True
    areas = {directory.comune_area.get(c) for c in scope.comuni} - {None}
    return lambda p: (p.comune in scope.comuni if p.comune else
                      p.sub_ambito in areas if p.sub_ambito else scope.default)


def obligation_overview(engine: Engine, *, as_of: date, obligations: list[Obligation] | None = None) -> list[dict]:
    obligations = obligations if obligations is not None else load_obligations()
    rows = []
    with reading(engine) as conn:
        directory = Directory(conn)
        for ob in obligations:
            dues = occurrences(conn, ob, as_of) or _next_due(conn, ob, as_of)
            for due in dues:
                pending = pending_for(conn, directory, ob, due, as_of)
                rows.append(_overview(ob, due, as_of, pending, steps_due(ob, due, as_of) if pending else []))
    return sorted(rows, key=lambda r: r["scadenza"])


def keep_answers(engine: Engine, obligations: list[Obligation], as_of: date, ambito: str | None) -> None:
    """The facts too costly to compute on each Oggi view (facts.KEEPERS) computed in full once here, for the
    live occurrences and the next one, and kept with what they saw: the day's readers add only what changed."""
    kept = [ob for ob in obligations if ob.fact in KEEPERS]
    if not kept:
        return
    with reading(engine) as conn:
        dues = {ob.code: sorted(set(occurrences(conn, ob, as_of)) | set(_next_due(conn, ob, as_of))) for ob in kept}
    for ob in kept:
        KEEPERS[ob.fact](engine, ob, dues[ob.code], ambito)


def _next_due(conn: Connection, ob: Obligation, as_of: date) -> list[date]:
    if ob.schedule.kind == "call_closing":
        return []
    upcoming = [d for d in ob.schedule.due_dates(as_of) if d >= as_of]
    return upcoming[:1]


def mark_met(engine: Engine, *, code: str, period: str, scope_key: str, actor: Actor, reason: str,
             met_on: date, obligations: list[Obligation] | None = None) -> None:
    """A manual "met": only with a reason, by the obligation's owner role or the Ufficio di Piano; audited."""
    obligations = obligations if obligations is not None else load_obligations()
    ob = next((o for o in obligations if o.code == code), None)
    if ob is None:
        raise NotFound(f"obbligo «{code}» inesistente")
    if actor.role.value not in {ob.owner_role, "planning_office"}:
        raise RoleNotAllowed(f"solo l'Ufficio di Piano o il responsabile ({ob.owner_role}) può dichiarare adempiuto «{ob.label}»")
    if not (reason or "").strip():
        raise InvalidData([FieldError("motivo", "Motivo", "campo obbligatorio: spiegare perché l'obbligo è adempiuto")])
    with writing(engine) as conn:
        if scope_key in store.manually_met(conn, code, period):
            raise InvalidData([FieldError("ambito", "Ambito", f"«{scope_key}» già dichiarato adempiuto per {period}")])
        store.record_met(conn, {
            "code": code, "period": period, "scope_key": scope_key, "met_on": met_on, "actor": actor.username,
            "actor_role": actor.role.value, "reason": reason.strip(), "recorded_at": datetime.now(timezone.utc),
        })


def _earlier_reminders(conn: Connection, ob: Obligation, period: str) -> dict[str, list[dict]]:
    rows = store.reminders_logged(conn, ob.code, period)
    earlier: dict[str, list[dict]] = {}
    for r in rows:
        earlier.setdefault(r.scope_key, []).append(
            {"destinatario": r.recipient.removeprefix("email:"), "il": r.queued_on.isoformat()})
    return earlier


def _item(ob, due, as_of, p: Pending, escalation: bool, directory: Directory, earlier: list[dict]) -> dict[str, Any]:
    return {
        "categoria": "escalation" if escalation else "obbligo", "caso_id": p.case_id, "tipo_caso": None,
        "etichetta": f"{ob.label}: {p.detail}", "scadenza": due.isoformat(), "giorni": (due - as_of).days,
        "comune": directory.comune_name.get(p.comune) if p.comune else p.sub_ambito, "fonte": "configured",
        "persona": None, "link": f"/casi/{p.case_id}" if p.case_id else f"/obblighi/{ob.code}",
        "promemoria_precedenti": earlier if escalation else [],
    }


def _overview(ob, due, as_of, pending: list[Pending], steps) -> dict[str, Any]:
    return {
        "codice": ob.code, "etichetta": ob.label, "scadenza": due.isoformat(), "periodo": ob.period_of(due),
        "responsabile": ob.owner_role, "adempiuto": not pending,
        "in_sospeso": [{"ambito": p.scope_key, "mancante": p.detail} for p in pending],
        "passi_di_oggi": [s.stage for s in steps],
    }
