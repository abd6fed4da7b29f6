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


KEPT = "conservato."  # hidden inputs of what the shown form has no place for: never read as the case's data


def _fits(f: FormField | None, values: list[str]) -> bool:
    """Whether the input `f` can show `values` (a select or boxes only the choices they offer)."""
    if f is None:
        return False
    return f.kind not in ("select", "checks") or set(values) <= {value for value, _ in f.choices}


@dataclass
class Carried:
    """What the new type's form has no input (or no such choice) for: kept as hidden inputs, listed by label."""

    values: dict[str, Any]  # what the form shows, as the form generator takes it
    hidden: list[tuple[str, str]]  # ("conservato.<name>", value), one per value
    labels: list[str]  # the typed ones, as the worker knows them


def carried(inputs: Sequence[FormField], inp: FormInput, others: Sequence[tuple[Workflow, Transition]]) -> Carried:
    """Sort what was posted (and kept from earlier types) for a form whose fields are `inputs` (head included):
    a value it can show is shown (one typed now first, else one kept); the rest is kept, hidden: no input of that
    name, or a choice it does not offer («Caritas» as the source of a SAD referral). A kept value is listed when
    it was typed (not the blank form's own default) on one of the user's types `others`."""
    index = {f.name: f for f in walk(inputs)}
    posted = {k: [x for x in v if x.strip()] for k, v in inp.values.items() if not k.startswith(KEPT)}
    kept = {k[len(KEPT):]: [x for x in v if x.strip()] for k, v in inp.values.items() if k.startswith(KEPT)}
    shown: dict[str, Any] = {}
    hidden: list[tuple[str, str]] = []
    lost: dict[str, list[str]] = {}
    for name in [*posted, *(k for k in kept if k not in posted)]:
        now, before = posted.get(name, []), kept.get(name, [])
        if name in FORM_KEYS or "__N__" in name or not (now or before):
            continue
        f = index.get(name)
        pick = now if now and _fits(f, now) else (before if before and _fits(f, before) else [])
        if pick:
            shown[name] = pick[0] if len(pick) == 1 and (f is None or f.kind != "checks") else pick
        rest = [] if pick is now else list(dict.fromkeys([*now, *([] if pick is before else before)]))
        if rest and name not in COMMON:
            lost[name] = rest
            hidden.extend((KEPT + name, v) for v in rest)
    return Carried(shown, hidden, _labels(lost, others))


def _labels(lost: Mapping[str, list[str]], others: Sequence[tuple[Workflow, Transition]]) -> list[str]:
    defaults: dict[str, Any] = {}
    labels: dict[str, str] = {"tipologia": "Tipologia", "caso_collegato": "Caso collegato"}
    for wf, t in others:
        blank = build_fields(t.data) if t.data is not None else []
        for f in walk(blank):
            defaults.setdefault(f.name, f.value)
        for name, label in label_paths(blank).items():
            labels.setdefault(name, label)
    listed: list[str] = []
    for name, values in lost.items():
        default, label = defaults.get(name), labels.get(name, name)
        if not (isinstance(default, str) and values == [default]) and label not in listed:
            listed.append(label)
    return listed
