"""Recorded step data made readable on the case page: labels from the declaration's forms, Italian values."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, get_args

from pydantic.fields import FieldInfo

from domain.italian import format_date, quantity
from web.form_types import value_label  # noqa: F401
from web.form_types import _choices, _date_like, _is_choice, _default_value, _is_model, _is_true_literal, _metadata_attr, _strip  # noqa: F401


# ----------------------------------------------------------------------------- recorded data, readable

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _field_info(wf: Any, t: Any, key: str) -> FieldInfo | None:
    steps = [t] if t is not None else []
    steps += list(getattr(wf, "transitions", ()))
    models = [m for x in steps for m in (x.data, getattr(x, "computed_data", None)) if m is not None]
    for m in models:
        if key in m.model_fields:
            return m.model_fields[key]
        computed = getattr(m, "model_computed_fields", {}).get(key)
        if computed is not None:
            return FieldInfo(annotation=computed.return_type, title=computed.title)
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
    if base is not None and _is_choice(base):
        return value_label(value)
    if "(€" in label:
        try:
            from domain.italian import euro

            return euro(value)
        except Exception:  # noqa: BLE001 - a value that is not an amount is shown as it is
            return str(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return quantity(value)
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


# ----------------------------------------------------------------------------- repeated records as tables


@dataclass(frozen=True)
class Table:
    """A list of records (a month's visits, a pact's objectives) as one compact table."""

    label: str
    columns: list[str]
    rows: list[list[str]]


def describe_blocks(wf: Any, t: Any, data: Mapping[str, Any]) -> list[tuple[str, str] | Table]:
    """Recorded data as the case page shows it: (label, value) pairs as `describe_data`, except that a list of
    records becomes one `Table` (a column per field, "Persona › Cognome" for a nested one) instead of a
    "Visite › 1 › Data" line per value."""
    out: list[tuple[str, str] | Table] = []
    for key, value in data.items():
        info = _field_info(wf, t, key)
        label = (info.title if info is not None and info.title else key.replace("_", " ").capitalize())
        annotation = info.annotation if info is not None else None
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(_table(label, value, annotation))
        else:
            pairs: list[tuple[str, str]] = []
            _describe(pairs, label, value, annotation)
            out.extend(pairs)
    return out


def _table(label: str, records: list[dict[str, Any]], annotation: Any) -> Table:
    base, _ = _strip(annotation) if annotation is not None else (None, False)
    args = get_args(base) if base is not None else ()
    item = _strip(args[0])[0] if args else None
    columns: list[str] = []
    cells: list[dict[str, str]] = []
    for record in records:
        pairs: list[tuple[str, str]] = []
        _describe(pairs, "", record, item)
        row = {k.removeprefix(" › "): v for k, v in pairs}
        for k in row:
            if k not in columns:
                columns.append(k)
        cells.append(row)
    return Table(label, columns, [[row.get(c, "—") for c in columns] for row in cells])
