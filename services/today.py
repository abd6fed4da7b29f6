"""The "Oggi" page's queries: what a user has to do now, inside their scope.

- deadlines: open deadlines due today or within the next working days, and overdue ones, on the cases the
  user answers for (`domain.access.answers_for`: their own cases; a coordinator's sub-ambito; the case types
  whose declarations name the role in `Audience.deadlines_for`), always AND the read scope;
- obligations: the district obligations of the user's role (config/obligations.toml), the pending part
  limited to what is theirs (their cases, their sub-ambito, their provider);
- escalations: overdue deadlines the deadline sweep escalated to the user (a `reminder_log` row of stage
  "scaduta" or "normativa" with the user as recipient, see services/sweep.py); for the planning office also
  every statutory deadline passed: listed when the case is in scope, counted per case type otherwise.

Everything is read-only and set-based (one query per section, in store/today.py); the access filters come from
services/access.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection, Engine

from config.obligation_files import load_obligations
from domain.access import Principal
from domain.calendar import WorkingCalendar
from domain.obligations import Obligation
from domain.registry import get_workflow
from domain.workflow import Role
from services.access import answers_for_filter, scoped_filter
from services.directory import Directory
from services.facts import SCOPED, Pending
from services.obligations import occurrences, pending_for
from store import today as today_reads
from store.uow import reading

R = Role
HORIZON_WORKING_DAYS = 5
LIST_LIMIT = 200  # rows per section; the page says how many more there are
OBLIGATION_STATUS = {"adempiuto": "Adempiuto", "in_corso": "Da completare", "scaduto": "Scaduto"}


@dataclass(frozen=True)
class DeadlineItem:
    id: int
    case_id: int
    case_type: str
    case_label: str
    label: str
    due: date
    source: str  # statutory | configured
    comune: str | None
    owner: str | None
    person: str | None  # initials only
    days: int  # calendar days from today (negative: overdue)
    escalated: bool = False  # the sweep escalated it to this user

    @property
    def overdue(self) -> bool:
        return self.days < 0

    @property
    def statutory(self) -> bool:
        return self.source == "statutory"

    @property
    def when(self) -> str:
        if self.days < 0:
            return "scaduta ieri" if self.days == -1 else f"scaduta da {-self.days} giorni"
        return {0: "scade oggi", 1: "scade domani"}.get(self.days, f"tra {self.days} giorni")

    @property
    def link(self) -> str:
        return f"/casi/{self.case_id}"


@dataclass(frozen=True)
class EscalationItem:
    deadline: DeadlineItem
    stage: str  # scaduta | normativa
    escalated_on: date | None

    @property
    def stage_label(self) -> str:
        return "Termine normativo superato" if self.stage == "normativa" else "Scadenza superata"


@dataclass(frozen=True)
class ObligationItem:
    code: str
    label: str
    description: str
    due: date
    period: str
    status: str  # adempiuto | in_corso | scaduto
    pending: list[str]
    links: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return OBLIGATION_STATUS[self.status]


@dataclass
class Today:
    today: date
    horizon: date
    overdue: list[DeadlineItem]
    upcoming: list[DeadlineItem]
    overdue_total: int
    upcoming_total: int
    obligations: list[ObligationItem]
    escalations: list[EscalationItem]
    statutory_breaches: list[DeadlineItem] = field(default_factory=list)
    statutory_elsewhere: list[tuple[str, int]] = field(default_factory=list)  # (case type label, count)

    @property
    def due_today(self) -> list[DeadlineItem]:
        return [d for d in self.upcoming if d.days == 0]


# ----------------------------------------------------------------------------- deadlines


def _item(r: Any, today: date, escalated: bool = False) -> DeadlineItem:
    initials = f"{r.cognome[:1]}. {r.nome[:1]}." if r.cognome else None
    return DeadlineItem(r.id, r.case_id, r.case_type, get_workflow(r.case_type).label, r.label, r.due, r.source,
                        r.comune, r.owner, initials, (r.due - today).days, escalated)


def horizon_for(today: date, calendar: WorkingCalendar | None, working_days: int = HORIZON_WORKING_DAYS) -> date:
    if calendar is None:
        calendar = WorkingCalendar()
    return calendar.add_working_days(today, working_days)


def my_deadlines(engine: Engine, principal: Principal, *, today: date, horizon: date,
                 limit: int = LIST_LIMIT) -> tuple[list[DeadlineItem], int, list[DeadlineItem], int]:
    """(overdue, how many overdue, due from today to `horizon`, how many due) for `principal`."""
    overdue, n_overdue, upcoming, n_upcoming = today_reads.deadlines_due(
        engine, answers_for_filter(principal, today=today), username=principal.username, today=today,
        horizon=horizon, limit=limit)
    return ([_item(r, today, bool(r.escalated)) for r in overdue], n_overdue,
            [_item(r, today, bool(r.escalated)) for r in upcoming], n_upcoming)


# ----------------------------------------------------------------------------- escalations


def escalations_for(engine: Engine, principal: Principal, *, today: date,
                    limit: int = LIST_LIMIT) -> list[EscalationItem]:
    """Overdue deadlines still open that the sweep escalated to this user, in their read scope."""
    rows = today_reads.escalations(engine, scoped_filter(principal, today=today), username=principal.username,
                                   today=today, limit=limit)
    found: dict[int, EscalationItem] = {}
    for r in rows:  # one line per deadline: a statutory breach ("normativa") says more than "scaduta"
        if r.id not in found or r.stage == "normativa":
            found[r.id] = EscalationItem(_item(r, today, True), r.stage, r.queued_on)
    return list(found.values())


def statutory_breaches(engine: Engine, principal: Principal, *, today: date,
                       limit: int = LIST_LIMIT) -> tuple[list[DeadlineItem], list[tuple[str, int]]]:
    """Statutory deadlines passed and still open: listed when in scope, counted per case type otherwise
    (the planning office reads the other case types only in aggregate)."""
    listed, counted = today_reads.statutory_breaches(engine, scoped_filter(principal, today=today),
                                                     username=principal.username, today=today, limit=limit,
                                                     ambito=principal.ambito_code)
    return [_item(r, today, bool(r.escalated)) for r in listed], [(get_workflow(t).label, n) for t, n in counted]


# ----------------------------------------------------------------------------- obligations


def _relevant(ob: Obligation, role: Role) -> bool:
    tokens = {ob.owner_role, *(t for s in ob.steps for t in s.recipients)}
    if role is R.SOCIAL_WORKER:
        return bool(tokens & {"owner", "social_worker"})
    if role is R.PROVIDER:
        return bool(tokens & {"ente", "provider"})
    return role.value in tokens


def _pending_mine(p: Pending, principal: Principal, visible: set[int]) -> bool:
    role = principal.role
    if p.case_id is not None:
        if role is R.SOCIAL_WORKER and p.owner is not None:
            return p.owner == principal.username
        return p.case_id in visible
    if p.provider is not None:
        if role is R.PROVIDER:
            return p.provider == principal.provider_codice
        return role in (R.CSC_ADMIN, R.PLANNING_OFFICE)
    if p.sub_ambito is not None:
        if role in (R.SUBAREA_COORDINATOR, R.SOCIAL_WORKER):
            return p.sub_ambito == principal.sub_ambito
        return role in (R.CSC_ADMIN, R.PLANNING_OFFICE)
    return True  # the whole district


def _dues(conn: Connection, ob: Obligation, today: date) -> list[date]:
    live = occurrences(conn, ob, today)
    if live or ob.schedule.kind == "call_closing":
        return live
    return [d for d in ob.schedule.due_dates(today) if d >= today][:1]


def my_obligations(engine: Engine, principal: Principal, *, today: date,
                   obligations: list[Obligation] | None = None, shown: int = 5) -> list[ObligationItem]:
    """The obligations of the user's role: the live occurrence (or the next one) and what is still missing on
    the user's side. "Adempiuto" when nothing of theirs is pending."""
    obligations = obligations if obligations is not None else load_obligations()
    mine = [ob for ob in obligations if _relevant(ob, principal.role)]
    items: list[ObligationItem] = []
    if not mine:
        return items
    scope = scoped_filter(principal, today=today)
    with reading(engine) as conn:
        directory = Directory(conn, lazy=True)  # the facts read one or two of its parts
        for ob in mine:
            for due in _dues(conn, ob, today):
                pending = pending_for(conn, directory, ob, due, today, scope,  # facts over cases: only in scope
                                      principal.ambito_code)
                case_ids = {p.case_id for p in pending if p.case_id is not None
                            and not (principal.role is R.SOCIAL_WORKER and p.owner is not None)}
                # a fact over cases that took the scope read only cases in it: nothing to ask again
                visible = case_ids if ob.fact in SCOPED else today_reads.readable_case_ids(conn, scope, case_ids)
                kept = [p for p in pending if _pending_mine(p, principal, visible)]
                status = "adempiuto" if not kept else ("scaduto" if due < today else "in_corso")
                details = [p.detail + (f" (caso n. {p.case_id})" if p.case_id else "") for p in kept]
                if len(details) > shown:
                    details = details[:shown] + [f"e altri {len(details) - shown}"]
                links = sorted({f"/casi/{p.case_id}" for p in kept if p.case_id is not None})[:shown]
                items.append(ObligationItem(ob.code, ob.label, ob.description, due, ob.period_of(due), status,
                                            details, links))
    return sorted(items, key=lambda i: (i.status == "adempiuto", i.due, i.code))


# ----------------------------------------------------------------------------- the page


def today_for(engine: Engine, principal: Principal, *, today: date, calendar: WorkingCalendar | None = None,
              working_days: int = HORIZON_WORKING_DAYS) -> Today:
    horizon = horizon_for(today, calendar, working_days)
    overdue, n_overdue, upcoming, n_upcoming = my_deadlines(engine, principal, today=today, horizon=horizon)
    result = Today(today, horizon, overdue, upcoming, n_overdue, n_upcoming,
                   my_obligations(engine, principal, today=today), escalations_for(engine, principal, today=today))
    if principal.role is R.PLANNING_OFFICE:
        result.statutory_breaches, result.statutory_elsewhere = statutory_breaches(engine, principal, today=today)
    return result

