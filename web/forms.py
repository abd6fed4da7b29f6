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
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from domain.italian import DATE_FORMAT_MESSAGE, format_date, parse_date
from domain.validation import FieldError

ROWS_SHOWN = 3  # blank rows offered for a list of models (more can be added)
LONG_TEXT = 200  # a str field whose max_length exceeds this (or has none and a "note"-like name) is a textarea
_LONG_NAMES = ("note", "relazione", "avanzamento", "bisogni", "risorse", "obblighi", "esame", "motivo")

# Labels of enumerated values that read badly once humanised.
VALUE_LABELS: dict[str, str] = {
    "centro_impiego": "Centro per l'impiego",
    "terzo_settore": "Terzo settore",
    "una_tantum": "Una tantum",
    "sostegno_reddito": "Sostegno al reddito",
    "medico_di_base": "Medico di base",
    "dimissione_protetta": "Dimissione protetta",
    "servizi_sociali": "Servizi sociali",
    "igiene_personale": "Igiene personale",
    "cura_ambiente": "Cura dell'ambiente domestico",
    "isee": "ISEE",
    "ulteriore": "Patto ulteriore",
    "progetto": "Progetto Wel(l)FARE Legami",
}


def value_label(value: Any) -> str:
    """An enumerated value as a person reads it: "centro_impiego" → "Centro per l'impiego"."""
    if isinstance(value, Enum):
        value = value.value
    if value is True:
        return "sì"
    if value is False:
        return "no"
    text = str(value)
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    return text.replace("_", " ").capitalize()


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
    step: str = ""
    value: Any = None  # what the input shows (str; list of str for "checks")
    error: str = ""
    id_prefix: str = ""  # set only when another form on the same page already uses this id

    @property
    def id(self) -> str:
        return self.id_prefix + html_id(self.name)


def html_id(name: str) -> str:
    return name.replace(".", "__")


# ----------------------------------------------------------------------------- type helpers

_UNIONS = (Union, types.UnionType)


def _strip(annotation: Any) -> tuple[Any, bool]:
    """(annotation without Annotated/Optional, whether None is allowed)."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in _UNIONS:
            members = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(members) < len(get_args(annotation))
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation, optional


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _choices(annotation: Any) -> list[tuple[str, str]] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [(str(m.value), value_label(m.value)) for m in annotation]
    if get_origin(annotation) is Literal:
        values = get_args(annotation)
        if all(isinstance(v, bool) for v in values):
            return None  # Literal[True]: a checkbox that must be ticked
        return [(str(v), value_label(v)) for v in values]
    return None


def _is_true_literal(annotation: Any) -> bool:
    return get_origin(annotation) is Literal and all(isinstance(v, bool) for v in get_args(annotation))


def _date_like(annotation: Any) -> bool:
    return annotation is date


def _metadata_attr(info: FieldInfo, attr: str) -> Any:
    for m in info.metadata:
        value = getattr(m, attr, None)
        if value is not None:
            return value
    return None


def _default_value(info: FieldInfo) -> Any:
    if info.is_required():
        return None
    if info.default_factory is not None:
        try:
            return info.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return None
    return info.default


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
            f.rows = [build_fields(item, f"{path}.{i}.", values, errors, choices) for i in range(count)]
            f.template = build_fields(item, f"{path}.__N__.", {}, {}, choices)
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


# ----------------------------------------------------------------------------- form → data


class FormInput:
    """A submitted form as {name: [values]} (starlette's FormData, or a plain dict in tests)."""

    def __init__(self, form: Any):
        if hasattr(form, "multi_items"):
            items = form.multi_items()
        elif isinstance(form, Mapping):
            items = [(k, x) for k, v in form.items() for x in (v if isinstance(v, list) else [v])]
        else:
            items = list(form)
        self.values: dict[str, list[str]] = {}
        for k, v in items:
            if isinstance(v, str):
                self.values.setdefault(k, []).append(v)

    def get(self, name: str) -> str | None:
        v = self.values.get(name)
        return v[-1] if v else None

    def getlist(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def has_prefix(self, prefix: str) -> bool:
        return any(k.startswith(prefix) for k in self.values)

    def flat(self) -> dict[str, Any]:
        """The submitted values to show again: one string per name, lists for repeated names."""
        return {k: (v[-1] if len(v) == 1 else v) for k, v in self.values.items()}


def parse_form(model: type[BaseModel], form: Any, prefix: str = "") -> dict[str, Any]:
    """The nested data for `model` from a flat, dotted form (blanks left out: the model judges)."""
    inp = form if isinstance(form, FormInput) else FormInput(form)
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        value = _parse_field(path, info, inp)
        if value is not _MISSING:
            data[name] = value
    return data


_MISSING = object()


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _number(text: str) -> str:
    """Accept the Italian way of writing numbers: "1.234,50" and "21,5"."""
    t = text.strip().replace(" ", "")
    if "," in t:
        t = t.replace(".", "").replace(",", ".")
    return t


def _parse_field(path: str, info: FieldInfo, inp: FormInput) -> Any:
    annotation, optional = _strip(info.annotation)
    if _is_model(annotation):
        if not inp.has_prefix(f"{path}."):
            return _MISSING
        nested = parse_form(annotation, inp, f"{path}.")
        if not any(_has_content(v) for v in nested.values()) and (optional or not info.is_required()):
            return _MISSING
        return nested
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        item, _ = _strip(args[0] if args else str)
        if _is_model(item):
            indexes = sorted({int(m.group(1)) for k in inp.values
                              if (m := re.match(rf"^{re.escape(path)}\.(\d+)\.", k))})
            if not indexes:
                return _MISSING
            rows = [parse_form(item, inp, f"{path}.{i}.") for i in indexes
                    if _row_filled(item, inp, f"{path}.{i}.")]
            return rows if rows or info.is_required() else _MISSING
        if _choices(item) is not None:
            chosen = [v for v in inp.getlist(path) if v.strip()]
            if not chosen and f"{path}" not in inp.values and not info.is_required():
                return _MISSING
            return chosen
        text = inp.get(path)
        if _blank(text):
            return [] if info.is_required() else _MISSING
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if item in (Decimal, float):
            lines = [_number(x) for x in lines]
        return lines
    if origin is dict:
        text = inp.get(path)
        if _blank(text):
            return {} if info.is_required() else _MISSING
        pairs = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if not sep:
                key, sep, value = line.partition(":")
            if key.strip():
                pairs[key.strip()] = _number(value) if sep else ""
        return pairs
    if _is_true_literal(annotation):
        return True if not _blank(inp.get(path)) and inp.get(path) not in ("0", "false", "off") else _MISSING
    if annotation is bool:
        text = inp.get(path)
        if text is None:
            return _MISSING if optional else False
        return text.strip().lower() not in ("", "0", "false", "off", "no")
    text = inp.get(path)
    if _blank(text):
        return _MISSING
    if annotation in (Decimal, float):
        return _number(text)
    if annotation is int:
        return text.strip()
    return text


def _row_filled(item: type[BaseModel], inp: FormInput, prefix: str) -> bool:
    """A repeated row counts when something in it differs from the blank row's defaults."""
    for name, info in item.model_fields.items():
        default = _default_value(info)
        shown = "" if default is None or isinstance(default, (list, dict, bool)) else str(default)
        for key, values in inp.values.items():
            mine = key == f"{prefix}{name}" or key.startswith(f"{prefix}{name}.")
            if mine and any(v.strip() and v.strip() != shown for v in values):
                return True
    return False


def _has_content(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip() != ""


# ----------------------------------------------------------------------------- the step's own inputs


def parse_effective_date(text: str | None) -> tuple[date | None, FieldError | None]:
    """The "efficace il" input: blank → now; gg/mm/aaaa or aaaa-mm-gg → that day."""
    if _blank(text):
        return None, None
    try:
        return parse_date(text), None
    except ValueError as exc:
        return None, FieldError("efficace_il", "Efficace il", str(exc) or DATE_FORMAT_MESSAGE)


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


def apply_errors(fields: Sequence[FormField], errors: Sequence[FieldError]) -> list[FieldError]:
    """Attach each error to its input, or to the nearest enclosing fieldset or list ("firmatari.0" →
    "firmatari"); returns the errors that belong to no input (e.g. a check across fields)."""
    index = {f.name: f for f in walk(fields)}
    left: list[FieldError] = []
    for e in errors:
        parts = e.field.split(".") if e.field else []
        target = None
        while parts:
            target = index.get(".".join(parts))
            if target is not None:
                break
            parts.pop()
        if target is None:
            left.append(e)
        elif e.message not in target.error:
            target.error = f"{target.error}; {e.message}" if target.error else e.message
    return left


# ----------------------------------------------------------------------------- recorded data, readable

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _field_info(wf: Any, t: Any, key: str) -> FieldInfo | None:
    steps = [t] if t is not None else []
    steps += list(getattr(wf, "transitions", ()))
    models = [m for x in steps for m in (x.data, getattr(x, "computed_data", None)) if m is not None]
    for m in models:
        if key in m.model_fields:
            return m.model_fields[key]
    return None


def _display(value: Any, annotation: Any, label: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            return format_date(value)
        except ValueError:  # not a real day: shown as it is
            return str(value)
    base, _ = _strip(annotation) if annotation is not None else (None, False)
    if base is not None and _choices(base) is not None:
        return value_label(value)
    if "(€" in label:
        try:
            from domain.italian import euro

            return euro(value)
        except Exception:  # noqa: BLE001 - a value that is not an amount is shown as it is
            return str(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value).replace(".", ",")
    return str(value)


def describe_data(wf: Any, t: Any, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of recorded data, labelled with the declarations' titles: nested records
    as "Persona › Cognome", lists of records as "Obiettivi › 1 › Descrizione"."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        info = _field_info(wf, t, key)
        label = (info.title if info is not None and info.title else key.replace("_", " ").capitalize())
        _describe(out, label, value, info.annotation if info is not None else None)
    return out


def _describe(out: list[tuple[str, str]], label: str, value: Any, annotation: Any) -> None:
    base, _ = _strip(annotation) if annotation is not None else (None, False)
    if isinstance(value, dict):
        model = base if _is_model(base) else None
        for k, v in value.items():
            info = model.model_fields.get(k) if model is not None else None
            sub = info.title if info is not None and info.title else k.replace("_", " ").capitalize()
            _describe(out, f"{label} › {sub}", v, info.annotation if info is not None else None)
        return
    if isinstance(value, list):
        args = get_args(base) if base is not None else ()
        item = _strip(args[0])[0] if args else None
        if any(isinstance(v, dict) for v in value):
            for i, v in enumerate(value, start=1):
                _describe(out, f"{label} › {i}", v, item)
            return
        out.append((label, "; ".join(_display(v, item, label) for v in value) or "—"))
        return
    out.append((label, _display(value, annotation, label)))
