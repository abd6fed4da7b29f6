"""Events out, handlers as data: "case_type.transition" -> functions returning outbox messages.

Handlers run inside the transition's unit of work, so their outbox rows commit (or roll back)
together with the state change. They never send anything themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.engine import CaseView, Decision, World


@dataclass(frozen=True)
class Message:
    recipient: str
    template: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Event:
    name: str  # "<case_type>.<transition>"
    case_id: int
    seq: int
    case: CaseView  # the case before the transition
    decision: Decision
    world: World


Handler = Callable[[Event], list[Message]]
HANDLERS: dict[str, list[Handler]] = {}


def handles(*event_names: str):
    def register(fn: Handler) -> Handler:
        for name in event_names:
            HANDLERS.setdefault(name, []).append(fn)
        return fn

    return register


def outbox_rows(event: Event, created_at) -> list[dict[str, Any]]:
    rows = []
    for handler in HANDLERS.get(event.name, []):
        for m in handler(event):
            rows.append(
                {
                    "idempotency_key": f"{event.name}:{event.case_id}:{event.seq}:{m.template}:{m.recipient}",
                    "event": event.name,
                    "case_id": event.case_id,
                    "recipient": m.recipient,
                    "template": m.template,
                    "payload": m.payload,
                    "created_at": created_at,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": created_at,
                }
            )
    return rows


def _base(event: Event) -> dict[str, Any]:
    return {
        "case_id": event.case_id,
        "case_type": event.case.case_type,
        "transizione": event.decision.transition.label,
        "efficace_il": event.decision.effective_at.isoformat(),
    }


@handles("patto.assegna")
def notify_new_owner(event: Event) -> list[Message]:
    user = event.world.user(event.decision.owner or "")
    if user is None or not user.email:
        return []
    return [Message(user.email, "caso_assegnato", {**_base(event), "assegnatario": user.username})]


@handles("sad_caso.scegli_ente", "sad_caso.cambia_ente", "sad_caso.emetti_voucher")
def notify_chosen_provider(event: Event) -> list[Message]:
    codice = event.decision.provider_codice or event.case.provider_codice
    provider = event.world.provider(codice) if codice else None
    if provider is None or not provider.email:
        return []
    return [Message(provider.email, "sad_ente_" + event.decision.transition.name, {**_base(event), "ente": codice})]


@handles("sad_adesione.invita")
def invite_provider(event: Event) -> list[Message]:
    provider = event.world.provider(event.decision.provider_codice or "")
    if provider is None or not provider.email:
        return []
    return [Message(provider.email, "sad_invito_adesione", {**_base(event), "ente": provider.codice})]
