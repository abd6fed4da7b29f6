"""Posted form fields back into the declaration's data: nested fieldsets, repeatable rows (blank rows ignored),
Italian numbers and dates, checkboxes; then the model validates as for the API."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from domain.italian import DATE_FORMAT_MESSAGE, parse_date
from domain.validation import FieldError
from web.form_types import value_label  # noqa: F401
from web.form_types import _choices, _date_like, _default_value, _is_model, _is_true_literal, _metadata_attr, _strip  # noqa: F401


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
            if not chosen and (info.is_required() or f"{path}" not in inp.values):
                return _MISSING  # none ticked: "campo obbligatorio" when the worker must choose, else the default
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

EFFECTIVE_LABEL = "Data in cui è avvenuto"
EFFECTIVE_HELP = ("Il giorno in cui il passo è avvenuto davvero, se non è oggi (gg/mm/aaaa): non nel futuro, "
                  "non prima del passo precedente. Vuoto: oggi.")


def parse_effective_date(text: str | None) -> tuple[date | None, FieldError | None]:
    """The "efficace il" input: blank → now; gg/mm/aaaa or aaaa-mm-gg → that day."""
    if _blank(text):
        return None, None
    try:
        return parse_date(text), None
    except ValueError as exc:
        return None, FieldError("efficace_il", EFFECTIVE_LABEL, str(exc) or DATE_FORMAT_MESSAGE)


