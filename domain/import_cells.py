"""A cell of an import template read as a value of its column's kind (domain/import_template.py's `parse_row`):
a date written the Italian way, a number with a decimal comma, a value of a list by its code or label, several
values separated by «;», «sì»/«no», «chiave = valore» pairs, text. Each reader raises ValueError with the Italian
message the problems' report shows. Pure."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from domain.italian import parse_date

LIST_SEPARATOR = ";"
_TRUE = {"sì", "si", "s", "x", "vero", "true", "1", "yes"}
_FALSE = {"no", "n", "falso", "false", "0"}

Column = Any  # domain.import_template.Column (its kind and choices)


@lru_cache(maxsize=4096)
def _parse_day(text: str) -> date:
    """parse_date's answer, kept: a file's steps fall on a few hundred days (a ValueError is not kept)."""
    return parse_date(text)


def _read_date(col: Column, raw: Any) -> Any:
    if type(raw) is str:
        return _parse_day(raw.strip())
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    return parse_date(str(raw).strip())


def _read_number(col: Column, raw: Any) -> Any:
    return _number(raw)


def _read_choice(col: Column, raw: Any) -> Any:
    return _choice(col, str(raw).strip())


def _read_list(col: Column, raw: Any) -> Any:
    items = [p.strip() for p in str(raw).split(LIST_SEPARATOR) if p.strip()]
    return [_choice(col, p) for p in items] if col.choices else items


def _read_bool(col: Column, raw: Any) -> Any:
    text = str(raw).strip().lower() if not isinstance(raw, bool) else ("sì" if raw else "no")
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("valore non ammesso: scrivere «sì» o «no»")


def _read_pairs(col: Column, raw: Any) -> Any:
    pairs = [p.split("=", 1) for p in str(raw).split(LIST_SEPARATOR) if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError("scrivere le voci nella forma «chiave = valore», separate da «;»")
    return {k.strip(): v.strip() for k, v in pairs}


def read_text(col: Column, raw: Any) -> Any:
    if type(raw) is str:
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


READERS = {"date": _read_date, "number": _read_number, "choice": _read_choice, "list": _read_list,
            "bool": _read_bool, "pairs": _read_pairs}  # any other kind: text


def _number(raw: Any) -> str:
    if isinstance(raw, bool):
        raise ValueError("è atteso un numero")
    if isinstance(raw, (int, Decimal)):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    text = str(raw).strip().replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")  # Italian: 1.234,56
    try:
        Decimal(text)
    except InvalidOperation:
        raise ValueError("è atteso un numero (es. 1234,56)") from None
    return text


_CHOICES: dict[int, tuple[tuple[tuple[str, str], ...], dict[str, str]]] = {}


def _choice(col: Column, text: str) -> str:
    """The value whose code or label the text is (case aside; the first such pair, in the list's order)."""
    known = _CHOICES.get(id(col.choices))
    if known is None or known[0] is not col.choices:  # each column's list read once, not at every cell
        found: dict[str, str] = {}
        for value, label in col.choices:
            found.setdefault(value.lower(), value)
            found.setdefault(label.lower(), value)
        if len(_CHOICES) >= 1024:
            _CHOICES.clear()
        known = _CHOICES[id(col.choices)] = (col.choices, found)
    value = known[1].get(text.lower())
    if value is not None:
        return value
    allowed = ", ".join(label for _, label in col.choices[:12])
    raise ValueError(f"valore «{text}» non ammesso (ammessi: {allowed})")
