"""The engine's pure decision: (case, command, declaration, policy, calendar, world) -> Decision.

Nothing here performs I/O. The service layer loads the case, calls `decide`, and persists
the decision (state, audit row, deadlines, outbox) in one unit of work.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError

from domain.bounds import reason_problem
from domain.calendar import WorkingCalendar
from domain.errors import (
    EffectiveDateInvalid,
    GuardRefused,
    InvalidData,
    RoleNotAllowed,
    TransitionNotAllowed,
    UnknownTransition,
)
from domain.person import PersonCase
from domain.policy import Policy
from domain.validation import FieldError, italian_errors
from domain.workflow import ROLE_LABELS, Basis, DeadlineRule, Outcome, Role, Source, Transition, Workflow


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    sub_ambito: str | None = None
    provider_codice: str | None = None
    on_behalf_of: str | None = None  # the absent worker a deputy (sostituto) acts for; recorded with the step


@dataclass(frozen=True)
class CaseView:
    """What the engine needs to know about a case (a read-only snapshot)."""

    id: int | None
    case_type: str
    kind: str | None
    state: str | None
    comune_istat: str | None
    owner: str | None
    opened_on: date
    state_since: datetime | None
    policy_version: str
    data: Mapping[str, Any]
    version: int = 0
    related_case_id: int | None = None
    provider_codice: str | None = None
    person: Mapping[str, Any] | None = None
    audit_hash: str | None = None  # the head of the case's audit chain (domain/audit.py)


@dataclass(frozen=True)
class UserView:
    username: str
    role: Role
    sub_ambito: str | None
    provider_codice: str | None = None
    email: str | None = None
    full_name: str | None = None  # as e-mails and pages address the person


@dataclass(frozen=True)
class ProviderView:
    codice: str
    nome: str
    comuni: frozenset[str]
    adhesion_state: str | None  # state of its SAD adhesion case, None if never invited
    email: str | None = None


class World(Protocol):
    """Read-only facts beyond the case itself, asked lazily by guards."""

    def case(self, case_id: int) -> CaseView | None: ...
    def user(self, username: str) -> UserView | None: ...
    def provider(self, codice: str) -> ProviderView | None: ...
    def sub_ambito_of(self, comune_istat: str) -> str | None: ...
    def committed_on_call(self, call_id: int) -> Decimal: ...
    def related_cases(self, case_id: int, case_type: str) -> list[CaseView]: ...  # e.g. a call's applications
    def cases_of_person(self, codice_fiscale: str) -> list[PersonCase]: ...  # every case of theirs (§13)


@dataclass(frozen=True)
class Command:
    transition: str
    actor: Actor
    effective_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    # opening only
    kind: str | None = None
    comune_istat: str | None = None
    related_case_id: int | None = None


@dataclass(frozen=True)
class Context:
    """What a guard sees."""

    workflow: Workflow
    case: CaseView
    data: Any  # the validated pydantic model of the transition, or None
    merged: Mapping[str, Any]  # case data with this transition's data applied
    actor: Actor
    effective_at: datetime
    policy: Policy
    world: World

    @property
    def effective_on(self) -> date:
        return self.effective_at.date()


@dataclass(frozen=True)
class NewDeadline:
    kind: str
    label: str
    due: date
    basis: str
    source: str


@dataclass(frozen=True)
class Decision:
    transition: Transition
    from_state: str | None
    to_state: str
    effective_at: datetime
    reason: str | None
    data: dict[str, Any]  # what this transition recorded (the audit row's data)
    case_data: dict[str, Any]  # the case's data after the transition
    person: dict[str, Any] | None = None
    owner: str | None = None
    kind: str | None = None
    outcome: Outcome | None = None
    outcome_reason: str | None = None
    met: tuple[str, ...] = ()  # open deadlines of these kinds are met
    expired: tuple[str, ...] = ()  # ... reached their term and their automatic consequence ran
    new_deadlines: tuple[NewDeadline, ...] = ()
    cancel_open_deadlines: bool = False  # the case reached a terminal state
    pause_deadlines: bool = False  # the case entered a suspended state
    resume_shift_days: int | None = None  # the case left a suspended state after N days
    provider_codice: str | None = None


FUTURE_TOLERANCE = timedelta(minutes=5)


def decide(
    wf: Workflow,
    case: CaseView | None,
    command: Command,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    world: World,
    now: datetime,
) -> Decision:
    t = wf.transition(command.transition)
    if t is None:
        raise UnknownTransition(f"la transizione «{command.transition}» non esiste per «{wf.label}»")
    _check_state(wf, t, case)
    _check_role(t, command.actor)
    _check_effective_date(case, command.effective_at, now)
    model, payload = _validate_data(t, command, now)
    person = payload.pop("persona", None) if t.opening and wf.has_person else None
    view = case or _opening_view(wf, command, policy, person)
    merged = {**view.data, **payload} if t.merge_data else dict(view.data)
    ctx = Context(wf, view, model, merged, command.actor, command.effective_at, policy, world)
    _check_opening(wf, t, command, ctx)
    reasons = list(dict.fromkeys(r for g in t.guards if (r := g.check(ctx)))) if t.guards else []  # each once
    outcome, outcome_reason = _outcome(wf, t, model, merged, policy, reasons)
    if reasons:
        raise GuardRefused(reasons)
    if t.computes is not None and t.computed_data is not None:
        computed = _computed(t, ctx)
        payload.update(computed)
        if t.merge_data:
            merged.update(computed)
    if outcome is not None and wf.outcome and wf.outcome.measure_field and wf.outcome.measure:
        measured = round(wf.outcome.measure(merged), 4)
        payload[wf.outcome.measure_field] = merged[wf.outcome.measure_field] = measured
    if outcome is not None:  # the history carries the outcome: tallies read it from there
        payload["esito"] = merged["esito"] = outcome.value
    target = wf.state(t.target)
    source = wf.state(view.state) if view.state else None
    leaving_suspension = source is not None and source.suspended and not target.suspended
    met, expired = wf.closes(t.name)
    return Decision(
        transition=t,
        from_state=view.state,
        to_state=t.target,
        effective_at=command.effective_at,
        reason=command.reason,
        data=payload,
        case_data=merged,
        person=person,
        owner=str(payload[t.assigns_owner]) if t.assigns_owner else (
            command.actor.username if t.owner_is_actor else None
        ),
        kind=str(payload[t.sets_kind]) if t.sets_kind else (command.kind if t.opening else None),
        outcome=outcome,
        outcome_reason=outcome_reason,
        met=met,
        expired=expired,
        new_deadlines=tuple(_due(r, ctx, calendar) for r in t.starts) if t.starts else (),
        cancel_open_deadlines=target.terminal,
        pause_deadlines=target.suspended and not (source and source.suspended),
        resume_shift_days=(
            (command.effective_at.date() - view.state_since.astimezone(command.effective_at.tzinfo).date()).days
            if leaving_suspension and view.state_since
            else None
        ),
        provider_codice=str(payload["ente"]) if "ente" in payload and payload["ente"] else None,
    )


def allowed_transitions(wf: Workflow, state: str | None, role: Role | None = None,
                        kind: str | None = None) -> list[Transition]:
    """The transitions that may fire from `state` on a case of `kind` (for `role`, if given): buttons, CLI help."""
    return [t for t in wf.transitions_from(state, kind) if role is None or role in t.roles]


def _check_state(wf: Workflow, t: Transition, case: CaseView | None) -> None:
    if case is None and not t.opening:
        raise TransitionNotAllowed(f"«{t.label}» non apre un caso: serve un caso esistente")
    if case is not None and case.state not in t.sources:
        label = wf.state(case.state).label if case.state else "nuovo"
        raise TransitionNotAllowed(f"dallo stato «{label}» non è possibile «{t.label}»")
    if case is not None and t.for_kinds and case.kind is not None and case.kind not in t.for_kinds:
        labels = dict(wf.kinds)
        allowed = ", ".join(labels.get(k, k).lower() for k in sorted(t.for_kinds))
        raise TransitionNotAllowed(f"«{t.label}» è previsto solo per la tipologia: {allowed}")


def _check_role(t: Transition, actor: Actor) -> None:
    if actor.role not in t.roles:
        allowed = ", ".join(sorted(ROLE_LABELS[r] for r in t.roles))
        raise RoleNotAllowed(
            f"il ruolo «{ROLE_LABELS[actor.role]}» non può eseguire «{t.label}» (ammessi: {allowed})"
        )


def _check_effective_date(case: CaseView | None, effective_at: datetime, now: datetime) -> None:
    if effective_at.tzinfo is None:
        raise EffectiveDateInvalid("la data di efficacia deve indicare il fuso orario")
    if effective_at > now + FUTURE_TOLERANCE:
        raise EffectiveDateInvalid("la data di efficacia non può essere nel futuro")
    if case is not None and case.state_since is not None and effective_at < case.state_since:
        raise EffectiveDateInvalid(
            "la data di efficacia non può precedere il passo precedente "
            f"({case.state_since.astimezone(effective_at.tzinfo):%d/%m/%Y %H:%M})"
        )


def _validate_data(t: Transition, command: Command, now: datetime) -> tuple[Any, dict[str, Any]]:
    model, payload, errors = _checked_data(t, command.data, command.reason, now.date())  # the engine's clock
    if errors:
        raise InvalidData(errors)
    return model, payload


def data_errors(t: Transition, data: Mapping[str, Any], *, reason: str | None, today: date) -> list[FieldError]:
    """Every error of a step's own input (its data, each field, and the reason), all at once and without
    raising: a form names every missing field in one answer, before anything else is looked up."""
    return _checked_data(t, data, reason, today)[2]


def _checked_data(t: Transition, data: Mapping[str, Any], reason: str | None,
                  today: date) -> tuple[Any, dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    if t.requires_reason and not (reason or "").strip():
        errors.append(FieldError("motivo", "Motivo", "campo obbligatorio"))
    elif (problem := reason_problem(reason)) is not None:  # one bound at every entrance
        errors.append(FieldError("motivo", "Motivo", problem))
    model, payload = None, {}
    if t.data is None:
        if data:
            errors.extend(FieldError(k, k, "campo non previsto") for k in data)
    else:
        try:
            model = t.data.model_validate(dict(data), context={"today": today})
            payload = model.model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            errors.extend(_sent_computed(t, italian_errors(exc, t.data)))
    return model, payload, errors


COMPUTED_NOTE = "dato calcolato da Legami: va corretto il dato da cui proviene"


def _computed(t: Transition, ctx: Context) -> dict[str, Any]:
    """The data a step computes (never sent by a user), validated by its declaration like typed data: bad values
    (say, a protocol number stored before the bounds, copied into a ranking) are an Italian InvalidData naming
    the field, never pydantic's English text."""
    try:
        model = t.computed_data.model_validate(dict(t.computes(ctx)))
    except ValidationError as exc:
        raise InvalidData([FieldError(e.field, e.label, f"{e.message} ({COMPUTED_NOTE})")
                           for e in italian_errors(exc, t.computed_data)]) from None
    return model.model_dump(mode="json", exclude_none=True)


def _sent_computed(t: Transition, errors: list[FieldError]) -> list[FieldError]:
    """A field the step computes, sent by the client: named by its label, and said to be computed."""
    computed = t.computed_data.model_fields if t.computed_data is not None else {}
    return [FieldError(e.field, computed[e.field].title or e.field,
                       "campo non previsto: lo calcola Legami quando il passo è eseguito")
            if e.field in computed and e.message == "campo non previsto" else e for e in errors]


def _opening_view(wf: Workflow, command: Command, policy: Policy, person: dict | None) -> CaseView:
    return CaseView(
        id=None,
        case_type=wf.case_type,
        kind=command.kind,
        state=None,
        comune_istat=command.comune_istat,
        owner=None,
        opened_on=command.effective_at.date(),
        state_since=None,
        policy_version=policy.version,
        data={},
        related_case_id=command.related_case_id,
        person=person,
    )


def _check_opening(wf: Workflow, t: Transition, command: Command, ctx: Context) -> None:
    if not t.opening:
        return
    errors: list[FieldError] = []
    kind_needed = bool(wf.kinds) and not wf.kind_chosen_later()
    if (kind_needed or command.kind is not None) and command.kind not in dict(wf.kinds):
        choices = ", ".join(k for k, _ in wf.kinds) or "nessuna tipologia prevista"
        errors.append(FieldError("tipologia", "Tipologia", f"valore non ammesso: scegliere tra {choices}"))
    if not wf.district_level:
        if not command.comune_istat:
            errors.append(FieldError("comune", "Comune", "campo obbligatorio"))
        elif ctx.world.sub_ambito_of(command.comune_istat) is None:
            errors.append(
                FieldError("comune", "Comune", f"il comune {command.comune_istat} non appartiene all'ambito")
            )
    if errors:
        raise InvalidData(errors)


def _outcome(
    wf: Workflow, t: Transition, model: Any, merged: Mapping[str, Any], policy: Policy, reasons: list[str]
) -> tuple[Outcome | None, str | None]:
    if not t.sets_outcome or wf.outcome is None:
        return None, None
    suggested = wf.outcome.suggest(dict(merged), policy)
    chosen = getattr(model, "esito", None) or suggested
    why = getattr(model, "motivo_esito", None)
    if chosen != suggested and not why:
        reasons.append(
            f"l'esito «{chosen.value}» differisce da quello suggerito «{suggested.value}»: indicare il motivo"
        )
    return Outcome(chosen), why


def _due(rule: DeadlineRule, ctx: Context, calendar: WorkingCalendar) -> NewDeadline:
    anchor = _anchor_date(rule, ctx)
    days = rule.days(ctx) if callable(rule.days) else rule.days
    if isinstance(days, str):
        days = int(ctx.policy.get(days))
    comune = ctx.case.comune_istat
    if rule.basis is Basis.WORKING:
        due = calendar.add_working_days(anchor, days, comune)
    else:
        due = calendar.add_calendar_days(anchor, days, comune)
    return NewDeadline(rule.kind, rule.label, due, _VALUES[rule.basis], _VALUES[rule.source])


_VALUES = {member: member.value for enum in (Basis, Source) for member in enum}  # Enum.value is a descriptor call


def _anchor_date(rule: DeadlineRule, ctx: Context) -> date:
    if rule.anchor == "transition":
        return ctx.effective_on
    if rule.anchor == "opened":
        return ctx.case.opened_on
    if rule.anchor.startswith("data:"):
        value = ctx.merged[rule.anchor.removeprefix("data:")]
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    raise ValueError(f"ancoraggio sconosciuto: {rule.anchor}")
