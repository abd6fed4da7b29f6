"""Use cases over the case engine: open, advance, show, list. Every entrypoint goes through here."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.calendar import WorkingCalendar
from domain.engine import Actor, CaseView, Command, allowed_transitions, decide
from domain.errors import ConflictError, NotFound
from domain.identity import identity_differences
from domain.italian import ROME
from domain.policy import Policy, policy_in_force
from domain.registry import get_workflow
from domain.validation import is_provisional_codice_fiscale
from domain.workflow import Role
from services import handlers
from services.world import StoreWorld
from store import cases as repo
from store import persons, reference, users
from store.uow import reading, writing


def now_rome() -> datetime:
    return datetime.now(ROME)


class _MemoCalendar(WorkingCalendar):
    """A WorkingCalendar that remembers its answers: they depend only on the day, the comune and the
    configuration the calendar was built with (national holidays, patron days, Saturdays), all fixed for
    its lifetime. A deadline's due date is then a dict lookup instead of a walk over holidays per step."""

    _LIMIT = 100_000  # entries per memo; cleared when full (days x comuni actually asked are far fewer)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._working: dict[tuple[date, str | None], bool] = {}
        self._added: dict[tuple[bool, date, int, str | None], date] = {}

    def is_working_day(self, d: date, comune: str | None = None) -> bool:
        key = (d, comune)
        answer = self._working.get(key)
        if answer is None:
            if len(self._working) >= self._LIMIT:
                self._working.clear()
            answer = self._working[key] = super().is_working_day(d, comune)
        return answer

    def add_working_days(self, start: date, n: int, comune: str | None = None) -> date:
        return self._memo(True, start, n, comune)

    def add_calendar_days(self, start: date, n: int, comune: str | None = None) -> date:
        return self._memo(False, start, n, comune)

    def _memo(self, working: bool, start: date, n: int, comune: str | None) -> date:
        key = (working, start, n, comune)
        due = self._added.get(key)
        if due is None:
            if len(self._added) >= self._LIMIT:
                self._added.clear()
            add = super().add_working_days if working else super().add_calendar_days
            due = self._added[key] = add(start, n, comune)
        return due


class CaseService:
    """Opens and advances cases; each call is one unit of work (state + audit + deadlines + outbox)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = now_rome):
        self.engine = engine
        self.clock = clock
        self._policies: dict[str, Policy] = {}
        self._calendars: dict[bool, WorkingCalendar] = {}
        self._calendar_of: dict[str, tuple[Policy, WorkingCalendar]] = {}  # by policy version
        self._sub_ambiti: dict[str, str] | None = None

    # ---------------------------------------------------------------- reference data (cached)

    def sub_ambiti(self) -> dict[str, str]:
        if self._sub_ambiti is None:
            self._sub_ambiti = reference.sub_ambito_map(self.engine)
        return self._sub_ambiti

    def policy(self, version: str) -> Policy:
        if version not in self._policies:
            self._load_policies()
        try:
            return self._policies[version]
        except KeyError:
            raise NotFound(f"versione di politica «{version}» non caricata") from None

    def policy_on(self, day: date) -> Policy:
        self._load_policies()
        return policy_in_force(list(self._policies.values()), day)

    def _load_policies(self) -> None:
        """The versions added since the last call (a stored version never changes: those held are kept, and so
        is the calendar built for them)."""
        for row in reference.policy_versions(self.engine, known=self._policies):
            self._policies[row.version] = Policy(row.version, row.valid_from, row.body, row.description)

    def calendar(self, policy: Policy) -> WorkingCalendar:
        known = self._calendar_of.get(policy.version)
        if known is not None and known[0] is policy:  # this very policy object: same answer as last time
            return known[1]
        calendar = self._calendar(policy)
        self._calendar_of[policy.version] = (policy, calendar)
        return calendar

    def _calendar(self, policy: Policy) -> WorkingCalendar:
        saturday = bool(policy.get_or("calendario.sabato_lavorativo", False))
        if saturday not in self._calendars:
            rows = reference.comuni(self.engine)
            patron = {r.istat: tuple(int(x) for x in r.patrono_mmdd.split("-")) for r in rows if r.patrono_mmdd}
            self._calendars[saturday] = _MemoCalendar(
                patron_days=patron, saturday_is_working=saturday, comune_names={r.istat: r.nome for r in rows}
            )
        return self._calendars[saturday]

    def actor(self, username: str) -> Actor:
        row = users.user(self.engine, username)
        if row is None:
            raise NotFound(f"utente «{username}» inesistente o disattivato")
        return Actor(row.username, Role(row.role), row.sub_ambito, row.provider_codice)

    # ---------------------------------------------------------------- commands

    def open_case(
        self,
        *,
        case_type: str,
        actor: Actor,
        data: Mapping[str, Any],
        transition: str | None = None,
        kind: str | None = None,
        comune_istat: str | None = None,
        related_case_id: int | None = None,
        effective_at: datetime | date | None = None,
        reason: str | None = None,
        check: Callable[[Any, dict[str, Any] | None], None] | None = None,
    ) -> int:
        """Open a case; `check(conn, person)` (if given) runs in the unit of work once the opening is decided,
        before anything is written (the scoped service refuses there a second open case of the type, §13)."""
        wf = get_workflow(case_type)
        name = transition or wf.opening_transitions()[0].name
        now = self.clock()
        when = self._effective(effective_at, None, now)
        policy = self.policy_on(when.astimezone(ROME).date())
        command = Command(name, actor, when, data, reason, kind, comune_istat, related_case_id)
        with writing(self.engine) as conn:
            world = StoreWorld(conn, self.sub_ambiti())
            decision = decide(wf, None, command, policy=policy, calendar=self.calendar(policy), world=world, now=now)
            if check is not None:
                check(conn, decision.person)
            person_id, typed_differs = None, False
            if decision.person:
                person_id, typed_differs = _person_for(conn, decision.person)
            view = CaseView(None, wf.case_type, kind, None, comune_istat, None, when.date(), None, policy.version,
                            {}, related_case_id=related_case_id)
            case_id = repo.insert_case(
                conn, decision=decision, view=view, actor=actor, recorded_at=_to_utc(now), person_id=person_id
            )
            if typed_differs:  # the stored person is kept; what was typed is kept beside it, to be resolved
                persons.record_discrepancy(conn, person_id=person_id, case_id=case_id, typed=decision.person,
                                           recorded_at=_to_utc(now), recorded_by=actor.username)
            self._emit(conn, world, f"{wf.case_type}.{name}", case_id, 1, view, decision, now)
        return case_id

    def advance(
        self,
        *,
        case_id: int,
        transition: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        effective_at: datetime | date | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Fire `transition` on the case; returns the new audit sequence number.

        `expected_version` is the version the user saw (forms carry it): if the case moved since, the
        command is a conflict even when the transition would still be allowed (a double submit of a
        repeatable step such as a monitoring entry).
        """
        return self.advanced(case_id=case_id, transition=transition, actor=actor, data=data,
                             effective_at=effective_at, reason=reason, expected_version=expected_version)[0]

    def advanced(self, *, case_id: int, transition: str, actor: Actor, data: Mapping[str, Any] | None = None,
                 effective_at: datetime | date | None = None, reason: str | None = None,
                 expected_version: int | None = None) -> tuple[int, str]:
        """`advance`, answering (seq, the state the case is now in); seq is also its new version."""
        try:
            return self._advance(case_id, transition, actor, data, effective_at, reason, expected_version)
        except _LostBeforeWriting:  # the pool handed out a dead connection: nothing was written, once more
            return self._advance(case_id, transition, actor, data, effective_at, reason, expected_version)

    def _advance(self, case_id: int, transition: str, actor: Actor, data: Mapping[str, Any] | None,
                 effective_at: datetime | date | None, reason: str | None,
                 expected_version: int | None) -> tuple[int, str]:
        now = self.clock()
        # one unit of work on a pooled DBAPI connection (store.cases.UnitOfWork: commit on success, rollback
        # on any error, connection back to the pool); every statement of a transition runs on its cursor
        with repo.UnitOfWork(self.engine) as conn:
            try:
                case = repo.load_case(conn, case_id)  # the first statement: a read
            except sa.exc.DBAPIError as exc:
                if exc.connection_invalidated:
                    raise _LostBeforeWriting from exc
                raise
            if expected_version is not None and case.version != expected_version:
                raise ConflictError(
                    f"il caso {case_id} è stato modificato da un altro utente nel frattempo (versione "
                    f"{case.version}, attesa {expected_version}): ricaricare e riprovare"
                )
            wf = get_workflow(case.case_type)
            policy = self.policy(case.policy_version)
            when = self._effective(effective_at, case.state_since, now)
            command = Command(transition, actor, when, data or {}, reason)
            world = StoreWorld(conn, self.sub_ambiti())
            calendar = self.calendar(policy)
            decision = decide(wf, case, command, policy=policy, calendar=calendar, world=world, now=now)
            seq = repo.apply_decision(conn, case=case, decision=decision, actor=actor, recorded_at=_to_utc(now))
            if decision.resume_shift_days:
                repo.resume_paused_deadlines(
                    conn, case_id, decision.resume_shift_days,
                    lambda d: calendar.next_working_day(d, case.comune_istat),
                )
            self._emit(conn, world, f"{wf.case_type}.{transition}", case_id, seq, case, decision, now)
        return seq, decision.to_state

    def _emit(self, conn, world, name, case_id, seq, case, decision, now) -> None:
        if name in handlers.HANDLERS:
            event = handlers.Event(name, case_id, seq, case, decision, world)
            repo.insert_outbox(conn, handlers.outbox_rows(event, _to_utc(now)))

    @staticmethod
    def _effective(value: datetime | date | None, previous: datetime | None, now: datetime) -> datetime:
        """A bare date means "on that day": after the previous step if that was the same day."""
        if value is None:
            return now
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=ROME)
        start = datetime.combine(value, time(0, 0), ROME)
        if previous is not None and previous.astimezone(ROME).date() == value and previous > start:
            return previous
        if value == now.date():
            return now
        return start

    def allowed(self, case_id: int, role: Role | None = None) -> list[str]:
        with reading(self.engine) as conn:
            case = repo.load_case(conn, case_id)
        return [t.name for t in allowed_transitions(get_workflow(case.case_type), case.state, role, case.kind)]


def _person_for(conn, typed: Mapping[str, Any]) -> tuple[int, bool]:
    """The stored person with the typed codice fiscale (a new one if unknown), and whether the typed name or
    birth date differs from the stored one (DOMAIN.md §13: flagged, never silently dropped)."""
    stored = persons.find_person(conn, typed["codice_fiscale"])
    if stored is None:
        provisional = is_provisional_codice_fiscale(typed["codice_fiscale"])
        return repo.find_or_insert_person(conn, dict(typed), provisional), False
    birth = date.fromisoformat(str(typed["data_nascita"]))
    return stored.id, bool(identity_differences(stored._asdict(), {**typed, "data_nascita": birth}))


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class _LostBeforeWriting(Exception):
    """The unit of work's first statement (a read) met a dead pooled connection: safe to run again."""
