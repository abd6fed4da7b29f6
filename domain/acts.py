"""Generated acts (DOMAIN.md §14): the legal papers of a procedure, declared with their case type. Pure.

An `Act` says which paper a case type prints (the patto to sign, the FNA notices, the SAD voucher, the Bonus
Famiglia vulnerability sheet), from which template, for which step of the workflow and in which states the case
page offers it, and which of the case's recorded fields it prints. Only those fields reach the template, so the
act's data classes are known from the declaration (`act_classes`): who may generate it is decided on them by
`domain.access.act_refusal`, and a stored act is filed as health data when one of its fields is.

`prepares=True`: the act is printed before its step, to be signed (the patto): the contents the case has not
recorded yet may be passed in, checked by the act's `inputs` form. `prepares=False`: the act records what the
step decided (a notice, an outcome letter) and is offered once the case has taken it.

Checked when the case type is built (`act_problems`): the step, the states, the fields and the template must
exist, and the names be unique.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.fields import FieldClass

if TYPE_CHECKING:
    from domain.casetype import CaseType

NAME_RE = re.compile(r"[a-z][a-z0-9_]{2,40}")
ACT_DOC_TYPE = "atto"  # the documents' type of every generated act
ACT_ORIGIN = "generato"


@dataclass(frozen=True)
class Act:
    name: str  # e.g. "preavviso_rigetto": the API's and the CLI's word for it
    title: str  # as printed and listed: "Preavviso di rigetto (art. 10-bis L. 241/1990)"
    template: Path  # the Jinja2 HTML template (extends the common act layout)
    transition: str  # the step it belongs to
    states: frozenset[str]  # where the case page offers it
    fields: tuple[str, ...]  # the case's recorded fields it prints (nothing else reaches the template)
    prepares: bool = False  # printed before `transition`, to be signed
    inputs: type | None = None  # a pydantic model of the contents that may be passed in when `prepares`
    identity: bool = True  # prints the person's name and codice fiscale
    extras: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # derived values (a total) from the fields

    @property
    def filename_stem(self) -> str:
        return self.name.replace("_", "-")


def act_classes(ct: "CaseType", act: Act) -> frozenset[FieldClass]:
    """Every class of data the act prints: its fields' classes, the person's identity if it prints it."""
    found = {ct.field_map.of(f) for f in act.fields}
    if act.identity:
        found.add(FieldClass.IDENTITY)
    return frozenset(found)


def stored_class(ct: "CaseType", act: Act) -> FieldClass:
    """The class a generated act is filed under among the documents (domain/documents.py): health if it prints a
    health field, else social (read with the case's social or administrative data)."""
    return FieldClass.HEALTH if FieldClass.HEALTH in act_classes(ct, act) else FieldClass.SOCIAL


def find_act(ct: "CaseType", name: str) -> Act | None:
    return next((a for a in ct.acts if a.name == name), None)


def offered(ct: "CaseType", state: str) -> tuple[Act, ...]:
    """The acts the case page offers in `state`."""
    return tuple(a for a in ct.acts if state in a.states)


def check_inputs(act: Act, raw: dict[str, Any] | None) -> dict[str, Any]:
    """The contents passed in for a `prepares` act, checked by its form (pydantic ValidationError if bad);
    {} when nothing is passed. An act that takes no contents refuses any (ValueError)."""
    if not raw:
        return {}
    if act.inputs is None:
        raise ValueError(f"l'atto «{act.title}» si genera solo dai dati del caso")
    return act.inputs.model_validate(raw).model_dump(mode="json")


def act_problems(ct: "CaseType") -> list[str]:
    """What does not bind in a case type's acts (each message names the act and the key)."""
    from domain.casetype import recorded_fields

    wf = ct.workflow
    transitions = {t.name for t in wf.transitions}
    states = {s.name for s in wf.states}
    fields = set(recorded_fields(wf))
    found, seen = [], set()
    for a in ct.acts:
        where = f"atto {a.name}"
        if not NAME_RE.fullmatch(a.name):
            found.append(f"{where}: nome non valido (minuscole, cifre e _)")
        if a.name in seen:
            found.append(f"{where}: nome già usato")
        seen.add(a.name)
        if a.transition not in transitions:
            found.append(f"{where}: transizione inesistente {a.transition}")
        if not a.states:
            found.append(f"{where}: nessuno stato in cui offrirlo")
        for s in sorted(a.states - states):
            found.append(f"{where}: stato inesistente {s}")
        for f in a.fields:
            if f not in fields:
                found.append(f"{where}: campo inesistente {f}")
        if a.inputs is not None:
            if not a.prepares:
                found.append(f"{where}: solo un atto da firmare prima del passo riceve contenuti")
            for f in a.inputs.model_fields:
                if f not in a.fields:
                    found.append(f"{where}: contenuto {f} non tra i campi dell'atto")
        if not a.template.is_file():
            found.append(f"{where}: modello mancante {a.template.name}")
    return found
