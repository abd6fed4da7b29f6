"""Events out, notifications declared as data (one `Notify` per e-mail a step sends). Pure.

A case type declares, with its workflow, which of its transitions send which template to whom
(`CaseType.notifications`). The service layer turns them into outbox rows inside the transition's unit of
work; nothing here sends anything.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
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


class Recipient(StrEnum):
    NEW_OWNER = "assegnatario"  # the user the step assigns the case to
    PROVIDER = "ente"  # the provider the step names, else the case's provider


@dataclass(frozen=True)
class Notify:
    """`transition` sends `template` (a file set `<template>.subject.txt/.txt/.html`) to `to`."""

    transition: str
    template: str
    to: Recipient


def base_payload(event: Event) -> dict[str, Any]:
    return {
        "case_id": event.case_id,
        "case_type": event.case.case_type,
        "transizione": event.decision.transition.label,
        "efficace_il": event.decision.effective_at.isoformat(),
    }


def _to_new_owner(event: Event, template: str) -> list[Message]:
    user = event.world.user(event.decision.owner or "")
    if user is None or not user.email:
        return []
    return [Message(user.email, template, {**base_payload(event), "assegnatario": user.full_name or user.username})]


def _to_provider(event: Event, template: str) -> list[Message]:
    codice = event.decision.provider_codice or event.case.provider_codice
    provider = event.world.provider(codice) if codice else None
    if provider is None or not provider.email:
        return []
    return [Message(provider.email, template, {**base_payload(event), "ente": provider.codice, "ente_nome": provider.nome})]


RECIPIENTS: dict[Recipient, Callable[[Event, str], list[Message]]] = {
    Recipient.NEW_OWNER: _to_new_owner,
    Recipient.PROVIDER: _to_provider,
}


def messages(notify: Notify, event: Event) -> list[Message]:
    return RECIPIENTS[notify.to](event, notify.template)
