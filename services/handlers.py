"""Events out: the e-mails a step sends, as its case type declares them (`CaseType.notifications`).

Run inside the transition's unit of work, so their outbox rows commit (or roll back) together with the
state change. They never send anything themselves. `HANDLERS` maps "case_type.transition" to the functions
that make the messages; it is built from the registry (tests may add a handler for one event).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from domain.events import Event, Message, Notify, messages
from domain.registry import all_case_types, generation

__all__ = ["HANDLERS", "Event", "Message", "handlers_for", "outbox_rows"]

Handler = Callable[[Event], list[Message]]


class _Handlers(dict[str, list[Handler]]):
    """Event name -> handlers: the registry's declared notifications, plus what a test sets by hand."""

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or bool(_declared().get(str(name)))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        found = _declared().get(name)
        return found if found else default


_cache: tuple[int, dict[str, list[Handler]]] = (-1, {})


def _declared() -> dict[str, list[Handler]]:
    global _cache
    if _cache[0] == generation():
        return _cache[1]
    found: dict[str, list[Handler]] = {}
    for ct in all_case_types():
        for n in ct.notifications:
            found.setdefault(f"{ct.case_type}.{n.transition}", []).append(_handler(n))
    _cache = (generation(), found)
    return found


def _handler(notify: Notify) -> Handler:
    return partial(messages, notify)


HANDLERS = _Handlers()


def handlers_for(name: str) -> list[Handler]:
    return HANDLERS.get(name, [])


def outbox_rows(event: Event, created_at) -> list[dict[str, Any]]:
    rows = []
    for handler in handlers_for(event.name):
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
