"""What a case waits for and who acts next, in words («In attesa di «Assegnazione e primo colloquio» da parte del
coordinatore del sub-ambito di Crema»), and why the reader cannot act when they cannot.

Derived, never written per case type: the steps come from the declaration (the transitions out of the case's
state for its kind, forward ones first, `Workflow.is_secondary` after), who may fire each from the access decision
(`domain.access.who_may_fire`, `fire_refusal`); this module only puts names to roles and positions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import DEFAULT_POLICY, AccessPolicy, CaseRef, Principal, WhoActs, fire_refusal, who_may_fire
from domain.registry import get_workflow
from domain.workflow import ROLE_LABELS, Role, Transition
from services.case_pages import display_names, provider_names
from store import users

R = Role


@dataclass(frozen=True)
class NextStep:
    name: str
    label: str
    secondary: bool  # ends the case early or suspends it: offered after the forward steps
    automatic: bool  # the system fires it when its deadline falls due
    mine: bool  # the reader may fire it now
    my_role: bool  # the declaration names the reader's role for it (if not `mine`, the scope refused)
    who: tuple[str, ...]  # who may fire it, each with its article: "del coordinatore del sub-ambito di Crema"
    refusal: str | None  # why the reader may not (None when `mine`)

    @property
    def by(self) -> str:
        """"da parte del coordinatore …", or how the step happens when no user can fire it."""
        if self.who:
            return "da parte " + " o ".join(self.who)
        return "(automatico, alla scadenza)" if self.automatic else "(nessun utente può registrarlo ora)"


@dataclass(frozen=True)
class Pointer:
    """The case's position on its path, for its page: the next steps and the one line saying who acts."""

    state_label: str
    terminal: bool
    steps: tuple[NextStep, ...]  # forward steps first, then the secondary ones, each in declaration order
    role_label: str = ""  # the reader's role, for the reason they may not act

    @property
    def forward(self) -> list[NextStep]:
        return [s for s in self.steps if not s.secondary]

    @property
    def my_turn(self) -> bool:
        return any(s.mine for s in self.forward)

    @property
    def headline(self) -> str:
        if self.terminal:
            return f"Caso chiuso («{self.state_label}»): non sono previsti altri passi."
        ahead = self.forward or self.steps
        if not ahead:
            return "Nessun passo previsto da questo stato."
        mine = [s for s in ahead if s.mine]
        others = "; oppure ".join(f"«{s.label}» {s.by}" for s in ahead if not s.mine)
        if mine:
            line = "Tocca a lei: " + " oppure ".join(f"«{s.label}»" for s in mine) + "."
            return line + (f" Altri passi possibili: {others}." if others else "")
        return f"In attesa di {others}."

    @property
    def why_not_me(self) -> list[str]:
        """The distinct reasons the reader may fire none of the steps (empty if they may fire one)."""
        if any(s.mine for s in self.steps) or self.terminal or not self.steps:
            return []
        seen: list[str] = []
        for s in (self.forward or self.steps):
            if s.my_role and s.refusal and s.refusal not in seen:
                seen.append(s.refusal)  # the role may, the scope refused: that reason (e.g. another's case)
        return seen or [f"i prossimi passi di questo caso non spettano al ruolo «{self.role_label}»"]


class _Names:
    """Display names for the people and providers a pointer mentions (read once, when first needed)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._kept: dict[tuple[str, str], Any] = {}  # one pointer, one page: each name read once (a case's
        # owner is named by the pointer and by each of its steps: six reads of one name per view)

    def _once(self, kind: str, key: str, read: Callable[[], Any]) -> Any:
        if (kind, key) not in self._kept:
            self._kept[(kind, key)] = read()
        return self._kept[(kind, key)]

    def person(self, username: str) -> str:
        return self._once("person", username,
                          lambda: display_names(self.engine, [username]).get(username, username))

    def coordinators(self, sub_ambito: str) -> list[str]:
        return self._once("coordinators", sub_ambito, lambda: [
            u.full_name or u.username for u in
            users.users(self.engine, role=R.SUBAREA_COORDINATOR.value, sub_ambito=sub_ambito, order="full_name")])

    def provider(self, codice: str) -> str:
        return self._once("provider", codice,
                          lambda: provider_names(self.engine, [codice]).get(codice, codice))


_DISTRICT_ROLES = {
    R.PLANNING_OFFICE: "dell'Ufficio di Piano",
    R.CSC_ADMIN: "dell'amministrativo CSC",
    R.HEALTH_ASSESSOR: "del valutatore ASST",
    R.EVALUATOR: "dell'Organismo di Valutazione",
    R.BENEFICIARY: "del beneficiario",
}


def _phrase(who: WhoActs, names: _Names) -> str:
    if who.role is R.SOCIAL_WORKER:
        if who.username:
            return f"dell'assistente sociale titolare, {names.person(who.username)}"
        return f"di un'assistente sociale del sub-ambito di {who.sub_ambito}" if who.sub_ambito \
            else "di un'assistente sociale"
    if who.role is R.SUBAREA_COORDINATOR:
        if not who.sub_ambito:
            return "del coordinatore di sub-ambito"
        people = names.coordinators(who.sub_ambito)
        return f"del coordinatore del sub-ambito di {who.sub_ambito}" + (f" ({', '.join(people)})" if people else "")
    if who.role is R.PROVIDER:
        return f"dell'ente {names.provider(who.provider_codice)}" \
            if who.provider_codice else "dell'ente scelto"
    return _DISTRICT_ROLES.get(who.role, f"di: {ROLE_LABELS.get(who.role, who.role)}")


def _step(wf, t: Transition, principal: Principal, ref: CaseRef, names: _Names, policy: AccessPolicy,
          owner_name: str | None) -> NextStep:
    refusal = fire_refusal(principal, ref, t, policy, owner_name=owner_name)
    who = tuple(_phrase(w, names) for w in who_may_fire(ref, t, policy))
    return NextStep(t.name, t.label, wf.is_secondary(t), t.automatic, refusal is None, principal.role in t.roles,
                    who, refusal)


def pointer(engine: Engine, principal: Principal, ref: CaseRef, *, policy: AccessPolicy = DEFAULT_POLICY) -> Pointer:
    """Where the case `ref` stands for `principal`: its next steps, who may take each, and why not the reader."""
    wf = get_workflow(ref.case_type)
    state = wf.state(ref.state) if ref.state else None
    names = _Names(engine)
    owner_name = names.person(ref.owner) if ref.owner else None
    steps = [_step(wf, t, principal, ref, names, policy, owner_name)
             for t in wf.transitions_from(ref.state, ref.kind)]
    ordered = [s for s in steps if not s.secondary] + [s for s in steps if s.secondary]
    return Pointer(state.label if state else "", bool(state and state.terminal), tuple(ordered),
                   ROLE_LABELS.get(principal.role, str(principal.role)))
