"""The declarative workflow model: one `Workflow` per case type.

The engine, the CLI, the Mermaid diagrams and (later) the forms and tallies all read
these declarations; no rule is written anywhere else.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from domain.engine import Context


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"
    SUBAREA_COORDINATOR = "subarea_coordinator"
    PLANNING_OFFICE = "planning_office"
    CSC_ADMIN = "csc_admin"
    PROVIDER = "provider"
    BENEFICIARY = "beneficiary"
    EVALUATOR = "evaluator"
    HEALTH_ASSESSOR = "health_assessor"
    REGIONAL_READER = "regional_reader"  # of no Ambito: aggregates across the instance's Ambiti only
    SYSTEM = "system"


ROLE_LABELS: dict[Role, str] = {
    Role.SOCIAL_WORKER: "assistente sociale",
    Role.SUBAREA_COORDINATOR: "coordinatore di sub-ambito",
    Role.PLANNING_OFFICE: "Ufficio di Piano",
    Role.CSC_ADMIN: "amministrativo CSC",
    Role.PROVIDER: "ente accreditato",
    Role.BENEFICIARY: "beneficiario",
    Role.EVALUATOR: "Organismo di Valutazione",
    Role.HEALTH_ASSESSOR: "valutatore ASST",
    Role.REGIONAL_READER: "Lettore regionale",
    Role.SYSTEM: "sistema",
}


class Basis(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


class Source(StrEnum):
    STATUTORY = "statutory"
    CONFIGURED = "configured"


class Outcome(StrEnum):
    POSITIVE = "positivo"
    PARTIAL = "parziale"
    NEGATIVE = "negativo"


DaysSpec = int | str | Callable[["Context"], int]


@dataclass(frozen=True)
class State:
    name: str
    label: str
    terminal: bool = False
    suspended: bool = False  # the case's clock stops while here
    # a terminal state off the case's main path (archived, withdrawn, not admitted, interrupted): the steps
    # that lead here, like those that suspend the case, are secondary (offered after the forward steps)
    off_path: bool = False


@dataclass(frozen=True)
class DeadlineRule:
    """A deadline a transition starts.

    `days` is a fixed number (statutory rules), a dotted policy key (configured rules)
    or a function of the context (e.g. a term set by the call). `anchor` says from which
    event the count starts: the starting transition ("transition"), the opening of the case
    ("opened") or a date in the case data ("data:<field>").
    """

    kind: str
    label: str
    days: DaysSpec
    basis: Basis
    source: Source
    met_by: tuple[str, ...]
    anchor: str = "transition"
    days_label: str = ""
    fires: str | None = None  # the automatic transition the sweep fires when this deadline falls due
    fires_after_days: int = 0  # ... this many days after the due date (e.g. a reply window lapsed)

    def describe_days(self) -> str:
        if self.days_label:
            return self.days_label
        unit = "gg lavorativi" if self.basis is Basis.WORKING else "giorni"
        if isinstance(self.days, int):
            return f"{self.days} {unit}"
        if isinstance(self.days, str):
            return f"«{self.days}» {unit}"
        return f"secondo il bando ({unit})"


@dataclass(frozen=True)
class Guard:
    """A validator: returns None when the transition may fire, else an Italian reason."""

    description: str
    check: Callable[["Context"], str | None]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]  # empty: the transition that opens a case
    target: str
    roles: frozenset[Role]
    data: type[BaseModel] | None = None
    guards: tuple[Guard, ...] = ()
    starts: tuple[DeadlineRule, ...] = ()
    requires_reason: bool = False
    merge_data: bool = True  # False for repeated records (monitoring, visits, payments)
    assigns_owner: str | None = None  # name of the data field holding the new owner's username
    sets_outcome: bool = False
    sets_kind: str | None = None  # name of the data field choosing the case's kind
    owner_is_actor: bool = False  # the actor who fires it becomes the case owner
    automatic: bool = False  # fired by the system (deadline sweep) when its time comes
    for_kinds: frozenset[str] = frozenset()  # offered only to cases of these kinds (empty: every kind)
    # data the rules compute when the step fires (e.g. a ranking from the call's applications), validated by
    # `computed_data` and recorded with the step; never taken from the client (`data` does not declare it, so a
    # client's copy is refused as an unknown field)
    computes: Callable[["Context"], Mapping[str, Any]] | None = None
    computed_data: type[BaseModel] | None = None

    @property
    def opening(self) -> bool:
        return not self.sources


@dataclass(frozen=True)
class OutcomeRule:
    """Suggests the outcome from the case data; `measure` (e.g. the realisation rate) is recorded too."""

    description: str
    suggest: Callable[[dict[str, Any], "PolicyView"], Outcome]
    measure_field: str | None = None
    measure: Callable[[dict[str, Any]], float] | None = None


class PolicyView:  # structural type, see domain.policy.Policy
    def get(self, key: str) -> Any: ...


@dataclass(frozen=True)
class Workflow:
    case_type: str
    label: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    kinds: tuple[tuple[str, str], ...] = ()
    district_level: bool = False  # no comune or person of its own (e.g. an FNA call)
    has_person: bool = True
    outcome: OutcomeRule | None = None
    description: str = ""
    _by_name: dict[str, Transition] = field(init=False, repr=False, compare=False)
    _states: dict[str, State] = field(init=False, repr=False, compare=False)
    _rules: dict[str, DeadlineRule] = field(init=False, repr=False, compare=False)
    _closes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_states", {s.name: s for s in self.states})
        object.__setattr__(self, "_by_name", {t.name: t for t in self.transitions})
        # derived once (the declaration is frozen): the engine asks for these on every transition
        rules = {r.kind: r for t in self.transitions for r in t.starts}
        object.__setattr__(self, "_rules", rules)
        object.__setattr__(self, "_closes", {
            t.name: (tuple(r.kind for r in rules.values() if t.name in r.met_by and r.fires != t.name),
                     tuple(r.kind for r in rules.values() if r.fires == t.name))
            for t in self.transitions
        })
        problems = declaration_problems(self)
        if problems:
            raise ValueError(f"dichiarazione '{self.case_type}' non coerente: " + "; ".join(problems))

    def state(self, name: str) -> State:
        return self._states[name]

    def transition(self, name: str) -> Transition | None:
        return self._by_name.get(name)

    def opening_transitions(self) -> list[Transition]:
        return [t for t in self.transitions if t.opening]

    def transitions_from(self, state: str | None, kind: str | None = None) -> list[Transition]:
        """The transitions leaving `state`, for a case of `kind` (None: the kind is not chosen yet)."""
        if state is None:
            return self.opening_transitions()
        return [t for t in self.transitions if state in t.sources
                and (kind is None or not t.for_kinds or kind in t.for_kinds)]

    def is_secondary(self, t: Transition) -> bool:
        """A step away from the main path: it ends the case early (`State.off_path`) or suspends it. Pages
        offer the forward steps first and these after them, styled as secondary."""
        target = self._states[t.target]
        return target.off_path or target.suspended

    def kind_chosen_later(self) -> bool:
        return any(t.sets_kind for t in self.transitions)

    def deadline_rules(self) -> dict[str, DeadlineRule]:
        return dict(self._rules)  # a copy: the declaration's own stays as declared

    def closes(self, transition: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The deadline kinds `transition` closes: (met, expired). Expired: the rules whose term fires it
        (`DeadlineRule.fires`); met: the other rules it satisfies (`met_by`)."""
        return self._closes[transition]

    def automatic_for(self, kind: str, state: str) -> Transition | None:
        """The automatic transition deadline `kind` fires from `state`, if any (fired by the sweep)."""
        rule = self._rules.get(kind)
        t = self._by_name.get(rule.fires) if rule and rule.fires else None
        return t if t is not None and state in t.sources else None

def declaration_problems(wf: Workflow) -> list[str]:
    """Consistency checks run when a declaration is built: a bad one never loads."""
    problems: list[str] = []
    names = [t.name for t in wf.transitions]
    if len(names) != len(set(names)):
        problems.append("nomi di transizione duplicati")
    if len(wf._states) != len(wf.states):
        problems.append("stati duplicati")
    for s in wf.states:
        if s.off_path and not s.terminal:
            problems.append(f"stato {s.name}: fuori dal percorso principale ma non terminale")
    if not wf.opening_transitions():
        problems.append("manca una transizione di apertura")
    for t in wf.transitions:
        for s in (*t.sources, t.target):
            if s not in wf._states:
                problems.append(f"{t.name}: stato sconosciuto {s}")
        for s in t.sources:
            if s in wf._states and wf._states[s].terminal:
                problems.append(f"{t.name}: esce dallo stato terminale {s}")
        if t.assigns_owner and (t.data is None or t.assigns_owner not in t.data.model_fields):
            problems.append(f"{t.name}: campo assegnatario {t.assigns_owner} assente")
        if t.sets_kind and (t.data is None or t.sets_kind not in t.data.model_fields):
            problems.append(f"{t.name}: campo tipologia {t.sets_kind} assente")
        unknown_kinds = t.for_kinds - {k for k, _ in wf.kinds}
        if unknown_kinds:
            problems.append(f"{t.name}: tipologie sconosciute {', '.join(sorted(unknown_kinds))}")
        if (t.computes is None) != (t.computed_data is None):
            problems.append(f"{t.name}: dati calcolati senza il loro modello (o viceversa)")
        if t.computed_data and t.data and set(t.computed_data.model_fields) & set(t.data.model_fields):
            problems.append(f"{t.name}: un campo calcolato è anche tra i dati richiesti all'utente")
        if t.sets_outcome and wf.outcome is None:
            problems.append(f"{t.name}: imposta l'esito ma manca la regola di esito")
    for r in (r for t in wf.transitions for r in t.starts if r.fires):
        fired = wf._by_name.get(r.fires)
        if fired is None or not fired.automatic or r.fires not in r.met_by:
            problems.append(f"scadenza {r.kind}: «{r.fires}» deve essere automatica e soddisfarla")
    met = {m for t in wf.transitions for r in t.starts for m in r.met_by}
    for m in met - set(names):
        problems.append(f"scadenza soddisfatta da transizione sconosciuta {m}")
    reachable = _reachable(wf)
    for s in wf.states:
        if s.name not in reachable:
            problems.append(f"stato {s.name} non raggiungibile")
    return problems


def _reachable(wf: Workflow) -> set[str]:
    seen = {t.target for t in wf.opening_transitions()}
    frontier = list(seen)
    while frontier:
        s = frontier.pop()
        for t in wf.transitions:
            if s in t.sources and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    return seen
