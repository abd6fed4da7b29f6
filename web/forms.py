"""HTML forms generated from a transition's declared pydantic model, and the way back.

`build_fields(model)` walks the model's fields into `FormField`s that the template macro
`casi/_campi.html` renders: text, textarea (long notes, `list[str]` one per line), number, date (text
gg/mm/aaaa), checkbox, select (Enum/Literal, with labels), checkbox groups (list of Enum/Literal),
fieldsets for nested models (dotted names "persona.cognome") and repeated rows for lists of models
("obiettivi.0.descrizione"). Labels are the models' Field titles, the same ones `italian_errors` uses.

`parse_form(model, form)` turns the submitted (flat, dotted) form back into the nested dict the engine
validates: blanks are left out (so pydantic reports "campo obbligatorio" or applies the default),
unchecked checkboxes are False, decimals written with a comma are accepted. The model stays the only
judge of what is valid: nothing here validates.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from domain.italian import format_date
from domain.validation import FieldError

ROWS_SHOWN = 3  # blank rows offered for a list of models (more can be added)
LONG_TEXT = 200  # a str field whose max_length exceeds this (or has none and a "note"-like name) is a textarea
_LONG_NAMES = ("note", "relazione", "avanzamento", "bisogni", "risorse", "obblighi", "esame", "motivo")

# Labels of enumerated values that read badly once humanised.


@dataclass
class FormField:
    name: str  # dotted path, as FieldError.field names it
    label: str
    kind: str  # text, textarea, number, date, checkbox, select, checks, lines, pairs, fieldset, rows
    required: bool = False
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    children: list[FormField] = field(default_factory=list)  # fieldset
    rows: list[list[FormField]] = field(default_factory=list)  # rows of a list of models
    template: list[FormField] = field(default_factory=list)  # one blank row (for "add a row")
    item_label: str = ""  # rows: the legend of one row, numbered after it («Obiettivo» → «Obiettivo 1»)
    blank_from: int = 0  # rows: from this row on, blank optional rows (offered without JavaScript; casi.js drops them)
    step: str = ""
    value: Any = None  # what the input shows (str; list of str for "checks")
    error: str = ""
    id_prefix: str = ""  # set only when another form on the same page already uses this id

    @property
    def id(self) -> str:
        return self.id_prefix + html_id(self.name)


def html_id(name: str) -> str:
    return name.replace(".", "__")


from web.form_types import VALUE_LABELS, value_label  # noqa: E402,F401  (re-exported)
from web.form_types import _choices, _date_like, _default_value, _is_model, _is_true_literal, _metadata_attr, _strip  # noqa: E402,F401


# ----------------------------------------------------------------------------- model → fields


def build_fields(model: type[BaseModel], prefix: str = "", values: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None,
                 choices: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> list[FormField]:
    """The form fields of `model`; `values` are the submitted (flat, dotted) values to show again,
    `errors` the messages by dotted field, `choices` overrides for fields offered as a select
    (e.g. the social workers of the sub-ambito for "assegnatario")."""
    values = values or {}
    errors = errors or {}
    choices = choices or {}
    out = []
    for name, info in model.model_fields.items():
        out.append(_field(f"{prefix}{name}", info, values, errors, choices))
    return out


def _field(path: str, info: FieldInfo, values: Mapping[str, Any], errors: Mapping[str, str],
           choices: Mapping[str, Sequence[tuple[str, str]]]) -> FormField:
    annotation, optional = _strip(info.annotation)
    label = info.title or path.rsplit(".", 1)[-1].replace("_", " ").capitalize()
    required = info.is_required() and not optional
    f = FormField(path, label, "text", required=required, help=info.description or "", error=errors.get(path, ""))
    default = _default_value(info)
    submitted = values.get(path)

    if path in choices:
        f.kind = "select"
        f.choices = list(choices[path])
        f.value = submitted if submitted is not None else ("" if default is None else str(default))
        return f
    if _is_model(annotation):
        f.kind = "fieldset"
        f.children = build_fields(annotation, f"{path}.", values, errors, choices)
        return f
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        item, _ = _strip(args[0] if args else str)
        if _is_model(item):
            f.kind = "rows"
            indexes = sorted({int(m.group(1)) for k in values
                              if (m := re.match(rf"^{re.escape(path)}\.(\d+)\.", k))})
            count = max(ROWS_SHOWN if required else 1, (indexes[-1] + 1) if indexes else 0)
            needed = (_metadata_attr(info, "min_length") or 0) if required else 0
            f.rows = [build_fields(item, f"{path}.{i}.", values, errors, choices) for i in range(count)]
            f.template = build_fields(item, f"{path}.__N__.", {}, {}, choices)
            for row in [*f.rows[needed:], f.template]:  # rows beyond the declared minimum may stay blank
                for c in walk(row):
                    c.required = False
            f.item_label = item.model_config.get("title") or f"{label}, riga"
            f.blank_from = max(needed, (indexes[-1] + 1) if indexes else 0)
            return f
        item_choices = _choices(item)
        if item_choices is not None:
            f.kind = "checks"
            f.choices = item_choices
            chosen = submitted if submitted is not None else [str(getattr(v, "value", v)) for v in (default or [])]
            f.value = [chosen] if isinstance(chosen, str) else list(chosen)
            return f
        f.kind = "lines"
        f.help = f.help or "Un elemento per riga."
        if submitted is not None:
            f.value = submitted
        elif default:
            f.value = "\n".join(str(v) for v in default)
        return f
    if origin is dict:
        f.kind = "pairs"
        f.help = f.help or "Una voce per riga, nella forma «chiave = valore»."
        f.value = submitted if submitted is not None else ""
        return f
    if _is_true_literal(annotation) or annotation is bool:
        f.kind = "checkbox"
        f.required = _is_true_literal(annotation)
        if submitted is not None:
            f.value = submitted not in ("", "0", "false", "off")
        else:
            f.value = bool(default)
        return f
    options = _choices(annotation)
    if options is not None:
        f.kind = "select"
        f.choices = options
        f.value = submitted if submitted is not None else ("" if default is None else str(getattr(default, "value", default)))
        return f
    if _date_like(annotation):
        f.kind = "date"
        f.help = f.help or "Formato gg/mm/aaaa."
        f.value = submitted if submitted is not None else (format_date(default) if isinstance(default, date) else "")
        return f
    if annotation in (int, Decimal, float):
        f.kind = "number"
        f.step = "1" if annotation is int else "any"
        f.value = submitted if submitted is not None else ("" if default is None else str(default))
        return f
    max_length = _metadata_attr(info, "max_length")
    leaf = path.rsplit(".", 1)[-1]
    if (max_length and max_length > LONG_TEXT) or any(leaf.startswith(n) for n in _LONG_NAMES):
        f.kind = "textarea"
    f.value = submitted if submitted is not None else ("" if default is None else str(default))
    return f


def flat_fields(fields: Sequence[FormField]) -> list[FormField]:
    """Every input-bearing field (fieldsets and rows opened), e.g. to list labels by name."""
    out: list[FormField] = []
    for f in fields:
        if f.kind == "fieldset":
            out.extend(flat_fields(f.children))
        elif f.kind == "rows":
            for row in f.rows:
                out.extend(flat_fields(row))
        else:
            out.append(f)
    return out


# ----------------------------------------------------------------------------- errors next to inputs


def walk(fields: Sequence[FormField]) -> list[FormField]:
    """Every field, fieldsets and lists of rows included (each before its children)."""
    out: list[FormField] = []
    for f in fields:
        out.append(f)
        if f.kind == "fieldset":
            out.extend(walk(f.children))
        elif f.kind == "rows":
            for row in f.rows:
                out.extend(walk(row))
    return out


def dedupe_ids(forms: Sequence[tuple[str, Sequence[FormField]]]) -> None:
    """Several forms on one page: the first keeps the ids "dotted name with __"; a later form whose id
    is taken (e.g. each form's "motivo") gets "<form name>--<id>", so labels point to their own input."""
    seen: set[str] = set()
    for form_name, fields in forms:
        for f in walk(fields):
            if f.id in seen:
                f.id_prefix = f"{form_name}--"
            seen.add(f.id)
            if f.kind == "checks":
                seen.update(f"{f.id}--{value}" for value, _ in f.choices)


def _target(index: Mapping[str, FormField], e: FieldError) -> FormField | None:
    """The input an error belongs to, or the nearest enclosing fieldset or list ("firmatari.0" → "firmatari")."""
    parts = e.field.split(".") if e.field else []
    while parts:
        target = index.get(".".join(parts))
        if target is not None:
            return target
        parts.pop()
    return None


def apply_errors(fields: Sequence[FormField], errors: Sequence[FieldError]) -> list[FieldError]:
    """Attach each error to its input, or to the nearest enclosing fieldset or list; returns the errors that
    belong to no input (e.g. a check across fields)."""
    index = {f.name: f for f in walk(fields)}
    left: list[FieldError] = []
    for e in errors:
        target = _target(index, e)
        if target is None:
            left.append(e)
        elif e.message not in target.error:
            target.error = f"{target.error}; {e.message}" if target.error else e.message
    return left


@dataclass
class Problem:
    """One line of a form's error summary: the message, and the input it links to (if any)."""

    text: str
    field: FormField | None = None

    @property
    def href(self) -> str:
        """"#<input id>", read when the page is drawn (ids may still change: `dedupe_ids`)."""
        anchor = _anchor(self.field) if self.field is not None else ""
        return f"#{anchor}" if anchor else ""

    def __str__(self) -> str:
        return self.text


def _anchor(f: FormField) -> str:
    """The id of the first input of `f`: itself, its first box, or the first input of its first row."""
    if f.kind == "checks":
        return f"{f.id}--{f.choices[0][0]}" if f.choices else f.id
    inner = f.children if f.kind == "fieldset" else (f.rows[0] if f.kind == "rows" and f.rows else [])
    if f.kind in ("fieldset", "rows"):
        return next((a for c in inner if (a := _anchor(c))), f.id)
    return f.id


def summary(fields: Sequence[FormField], errors: Sequence[FieldError], messages: Sequence[str] = ()) -> list[Problem]:
    """The error summary of a form: each field error linked to its input, in the order of the inputs on the
    page, then the errors and messages that belong to no input."""
    every = walk(fields)
    index = {f.name: f for f in every}
    position = {id(f): i for i, f in enumerate(every)}
    problems = [Problem(str(e), _target(index, e)) for e in errors]
    problems.sort(key=lambda p: position.get(id(p.field), len(every)))
    return problems + [Problem(m) for m in messages]


from web.describe import describe_data  # noqa: E402,F401  (re-exported)
from web.form_input import FormInput, parse_effective_date, parse_form  # noqa: E402,F401  (re-exported)
