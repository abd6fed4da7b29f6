"""The new-referral form's own parts: the head fields (comune, kind, linked case) above the declaration's data, the
required head fields left blank, and what is carried over when the worker changes «Tipo di caso».

Changing the type never wipes what was typed: the fields the new type also has (the person, the reason, the date)
keep their values; the others are carried along as hidden inputs, listed by label on the page, and come back when
the worker returns to a type that has them. Nothing here records anything."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.engine import data_errors
from domain.registry import get_case_type
from domain.validation import FieldError
from domain.workflow import Transition, Workflow
from services import case_pages
from web.forms import FormField, FormInput, build_fields, walk

FORM_KEYS = frozenset({"csrf_token", "tipo", "tipo_modulo", "azione"})  # the form's own controls, never data
COMMON = ("motivo", "efficace_il")  # inputs every opening step has (web.routes.cases.step_form)


def head_fields(engine: Any, principal: Any, wf: Workflow, values: Mapping[str, Any]) -> list[FormField]:
    """The fields above the declaration's data: the comune (not for district-level types), the kind when it is
    chosen at opening, the case it is linked to (e.g. the FNA call of an application)."""
    comuni = case_pages.comuni(engine, principal)
    head = [FormField("comune_istat", "Comune di residenza", "select", required=not wf.district_level,
                      value=values.get("comune_istat") or "",
                      choices=[(istat, f"{nome} ({area})") for istat, nome, area in comuni])]
    if wf.kinds and not wf.kind_chosen_later():
        head.append(FormField("tipologia", "Tipologia", "select", required=True, value=values.get("tipologia", ""),
                              choices=list(wf.kinds)))
    parent = get_case_type(wf.case_type).parent
    if parent is not None:
        head.append(FormField("caso_collegato", parent.label, "select", required=True,
                              value=values.get("caso_collegato", ""), choices=case_pages.open_parents(engine, parent)))
    return head


def blank_required(head: Sequence[FormField], inp: FormInput) -> list[FieldError]:
    """A required head field left blank, named like every other missing field."""
    return [FieldError(f.name, f.label, "campo obbligatorio") for f in head
            if f.required and not (inp.get(f.name) or "").strip()]


def every_problem(t: Transition, head: Sequence[FormField], inp: FormInput, data: Mapping[str, Any], *,
                  reason: str | None, date_error: FieldError | None, today: date) -> list[FieldError]:
    """Every missing or wrong field of the referral at once: the engine would stop at the first group, and the
    scope check before it cannot judge a referral without a comune."""
    return [*blank_required(head, inp), *([date_error] if date_error else []),
            *data_errors(t, data, reason=reason, today=today)]


def label_paths(fields: Sequence[FormField], parent: str = "") -> dict[str, str]:
    """{input name: its label as the page shows it}, nested labels joined («Persona segnalata › Cognome»,
    «Obiettivo 2 › Indicatore»)."""
    out: dict[str, str] = {}
    for f in fields:
        label = f"{parent} › {f.label}" if parent else f.label
        if f.kind == "fieldset":
            out.update(label_paths(f.children, label))
        elif f.kind == "rows":
            for i, row in enumerate(f.rows, 1):
                out.update(label_paths(row, f"{parent} › {f.item_label} {i}" if parent else f"{f.item_label} {i}"))
        else:
            out[f.name] = label
    return out


@dataclass
class Carried:
    """What the new type's form has no input for: kept as hidden inputs, listed by label."""

    hidden: list[tuple[str, str]]  # (name, value), one per submitted value
    labels: list[str]  # the typed ones, as the worker knows them


def carried(shown: Sequence[FormField], inp: FormInput,
            others: Sequence[tuple[Workflow, Transition]]) -> Carried:
    """The submitted values that `shown` (the new form, head included) has no input for. A value is listed when
    it was typed (not blank, not the blank form's own default) on one of the user's types `others`."""
    names = {f.name for f in walk(shown)} | set(COMMON)
    defaults: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for wf, t in others:
        blank = build_fields(t.data) if t.data is not None else []
        for f in walk(blank):
            defaults.setdefault(f.name, f.value)
        for name, label in label_paths(blank).items():
            labels.setdefault(name, label)
    labels.update({"tipologia": "Tipologia", "caso_collegato": "Caso collegato"})
    hidden: list[tuple[str, str]] = []
    listed: list[str] = []
    for name, submitted in inp.values.items():
        if name in FORM_KEYS or name in names or "__N__" in name:
            continue
        typed = [v for v in submitted if v.strip()]
        if not typed:
            continue
        hidden.extend((name, v) for v in typed)
        default, label = defaults.get(name), labels.get(name, name)
        if not (isinstance(default, str) and typed == [default]) and label not in listed:
            listed.append(label)
    return Carried(hidden, listed)
