"""The import's checks of one row (services/importing.py), apart from the database: a row's cells parsed, its
steps replayed through the engine (the forms' models, the guards, the deadlines) and, for a load, its case's rows
built in memory (services/import_batch.py). The same code runs in the load's own process and in the worker
processes of a large file (services/import_parallel.py): everything it knows of the district (policies, their
calendars, comuni, the cases of the parent type already imported, the users) is read once per file by the load,
and the world the guards ask is the load's (`PastWorld`) or, in a worker, `DetachedWorld`, which answers what
does not change during a load and sends back to the load's process any row that asks about other cases."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.access import import_refusal
from domain.casetype import CaseType
from domain.conditions import Principal
from domain.engine import Actor, CaseView, Command, Decision, UserView, decide
from domain.errors import DomainError, GuardRefused, InvalidData
from domain.import_template import COMUNE, OWNER, STATE, Column, ParsedRow
from domain.policy import Policy, policy_in_force
from domain.workflow import Role
from services.cases import CaseService
from services.import_batch import after


class RowRefused(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems


class NeedsWorld(Exception):
    """A guard asked a worker about other cases, a provider, a call: the row is checked by the load's process,
    in order, where the world sees every earlier row of the file."""


class DetachedWorld:
    """The world of a worker process: the users and sub-ambiti as the load read them when it started (they do not
    change during the load: its transaction writes neither); anything else raises NeedsWorld."""

    as_of: datetime | None = None

    def __init__(self, users: dict[str, UserView], sub_ambiti: dict[str, str]):
        self._users, self._sub_ambiti = users, sub_ambiti

    def user(self, username: str) -> UserView | None:
        return self._users.get(username)

    def sub_ambito_of(self, comune_istat: str) -> str | None:
        return self._sub_ambiti.get(comune_istat)

    def _elsewhere(self, *_args: Any) -> Any:
        raise NeedsWorld

    case = provider = committed_on_call = related_cases = cases_of_person = _elsewhere


class RowChecker:
    """A row's steps decided by the engine. `world` answers the guards; `versions` are the stored policies and
    `calendar_of` a policy's working calendar; `comuni` maps a comune's name or ISTAT code to its code and
    `parents` the external ids of the parent type's imported cases to their ids."""

    def __init__(self, user: Principal, ct: CaseType, cols: list[Column], file_name: str):
        self.user, self.ct, self.cols, self.file_name = user, ct, cols, file_name
        self.headers = {(c.transition, c.path): c.header for c in cols if c.role == "field"}
        self.dates = {c.transition: c.header for c in cols if c.role == "date"}
        self.policies: dict[date, Policy] = {}
        self.actors: dict[tuple[Role, str | None], Actor] = {}

    def ready(self, now: datetime, world: Any, versions: list[Policy], calendar_of: Callable[[Policy], Any],
              comuni: dict[str, str], parents: dict[str, int]) -> None:
        self.now, self.world, self.versions, self.calendar_of = now, world, versions, calendar_of
        self.comuni, self.parents = comuni, parents
        self.by_version = {p.version: p for p in versions}

    def decide_row(self, row: ParsedRow) -> tuple[list[tuple[Actor, Decision]], CaseView]:
        wf = self.ct.workflow
        comune = self._comune(row)
        related = self._parent(row)
        if not row.steps or not wf.transition(row.steps[0].transition).opening:
            first = self.dates[wf.opening_transitions()[0].name]
            raise RowRefused([(first, "manca la data del passo che apre il caso")])
        decisions: list[tuple[Actor, Decision]] = []
        view: CaseView | None = None
        policy = self._policy_on(row.steps[0].on)  # the opening step's, for every step of the case
        calendar = self.calendar_of(policy)
        note = (f"importato da «{self.file_name}», riga {row.number}, id esterno {row.external_id}, "
                f"a cura di {self.user.username}")
        for step in row.steps:
            t = wf.transition(step.transition)
            actor = self._actor(t, view, row.owner)
            when = CaseService._effective(step.on, view.state_since if view else None, self.now)
            reason = f"{step.reason} [{note}]" if step.reason else f"Importazione: {note}"
            command = Command(t.name, actor, when, step.data, reason,
                              row.kind if t.opening else None, comune if t.opening else None,
                              related if t.opening else None)
            self.world.as_of = when
            try:
                d = decide(wf, view, command, policy=policy, calendar=calendar, world=self.world, now=self.now)
            except InvalidData as exc:
                raise RowRefused([(self._header(t.name, e.field), e.message) for e in exc.errors]) from None
            except GuardRefused as exc:
                raise RowRefused([(self.dates[t.name], r) for r in exc.reasons]) from None
            except DomainError as exc:
                raise RowRefused([(self.dates[t.name], str(exc))]) from None
            decisions.append((actor, d))
            view = after(view, d, wf.case_type, comune, related, policy.version)
        if view.state != row.state:
            label = wf.state(view.state).label
            raise RowRefused([(STATE, f"i passi datati portano il caso in «{label}», non in "
                                      f"«{wf.state(row.state).label}»")])
        return decisions, view

    def _actor(self, t: Any, view: CaseView | None, owner: str | None) -> Actor:
        """The importer records every step; in the role the step asks for when theirs is not among its roles (a
        provider's step: as the case's provider), so the history says who loaded it and what the step was. A
        step that makes its actor the case's owner is recorded as the owner's (the «operatore titolare» column)."""
        if t.owner_is_actor and owner:
            user = self.world.user(owner)
            if user is None or user.role not in t.roles:
                raise RowRefused([(OWNER, f"«{owner}» non è un utente che può eseguire «{t.label}»")])
            return Actor(user.username, user.role, user.sub_ambito, user.provider_codice)
        role = self.user.role if self.user.role in t.roles else sorted(t.roles)[0]
        provider = view.provider_codice if role is Role.PROVIDER and view is not None else self.user.provider_codice
        actor = self.actors.get((role, provider))  # an Actor is frozen: one per role and provider, for every row
        if actor is None:
            actor = self.actors[(role, provider)] = Actor(self.user.username, role, self.user.sub_ambito, provider)
        return actor

    def _policy_on(self, day: date) -> Policy:
        """The policy in force on `day`, among the versions read once per file."""
        found = self.policies.get(day)
        if found is None:
            found = self.policies[day] = policy_in_force(self.versions, day)
        return found

    def _comune(self, row: ParsedRow) -> str | None:
        if self.ct.workflow.district_level:
            return None
        istat = self.comuni.get((row.comune or "").strip().lower())
        if istat is None:
            raise RowRefused([(COMUNE, f"il comune «{row.comune}» non è tra i comuni dell'ambito")])
        refusal = import_refusal(self.user, self.ct.case_type, istat)
        if refusal:
            raise RowRefused([(COMUNE, refusal)])
        return istat

    def _parent(self, row: ParsedRow) -> int | None:
        if self.ct.parent is None:
            return None
        text = (row.parent or "").strip()
        if text in self.parents:
            return self.parents[text]
        if text.isdigit():
            parent = self.world.case(int(text))
            if parent is not None and parent.case_type == self.ct.parent.case_type:
                return parent.id
        raise RowRefused([(self.ct.parent.label, f"«{text}» non è un caso importato né un numero di caso "
                                                  f"di tipo «{self.ct.parent.case_type}»")])

    def _header(self, transition: str, path: str) -> str:
        if path in ("motivo",):
            return self.dates[transition].rsplit(" · ", 1)[0] + " · motivo"
        if path in ("comune", "tipologia"):
            return COMUNE if path == "comune" else "Tipologia"
        found = self.headers.get((transition, path))
        while found is None and "." in path:  # an error on a whole record or list: its first column
            path = path.rsplit(".", 1)[0]
            found = next((h for (t, p), h in self.headers.items() if t == transition and p.startswith(path + ".")),
                         None)
        return found or next((h for (t, p), h in self.headers.items() if t == transition and p.startswith(path)),
                             self.dates[transition])
