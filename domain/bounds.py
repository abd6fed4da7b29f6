"""Bounds on every input, written once and applied at every entrance (web forms, API, CLI, import).

Every value a person or a client sends ends up in the append-only audit, so nothing unbounded gets in:
- free text is bounded by its declaration's `max_length`, or by `TEXT_MAX` where a form gives none
  (`Bounded`'s `str_max_length`); lists and mappings by theirs, or by `LIST_MAX`;
- control characters (NUL included) are refused, except tab and newline in multi-line text (a text whose
  bound exceeds `SINGLE_LINE_MAX`);
- dates lie between `YEAR_MIN` and `YEAR_MAX` unless the field declares its own range (ge/le);
- amounts carry no signed zero ("-0");
- a transition's reason (`motivo`) has one bound, `MOTIVO_MAX`, for the engine, the web form, the API and the CLI.

Pure: no I/O. The messages are Italian; the field is named by `domain.validation.italian_errors`.
"""
from __future__ import annotations

import re
import types
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from domain.italian import YEAR_RANGE

TEXT_MAX = 2000
"""Default bound of a free-text field whose declaration gives none."""
LIST_MAX = 200
"""Default bound of a list (or mapping) whose declaration gives none."""
MOTIVO_MAX = 2000
"""The one bound of a transition's reason («motivo»)."""
SINGLE_LINE_MAX = 200
"""A text bounded at or below this is one line: tab and newline are refused in it."""
YEAR_MIN, YEAR_MAX = YEAR_RANGE
"""Dates outside these years are typing errors (unless a field declares its own range)."""

_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNIONS = (Union, types.UnionType)


def control_character_problem(text: str, *, multiline: bool) -> str | None:
    """The Italian reason a text is refused for a control character, or None."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL_SINGLE_LINE
    found = pattern.search(text.strip())
    if found is None:
        return None
    char = found.group()
    if char in "\t\n\r":
        return "deve stare su una sola riga (a capo e tabulazioni non ammessi)"
    if "\ud800" <= char <= "\udfff":
        return "contiene caratteri non validi"
    return f"contiene un carattere di controllo non ammesso (U+{ord(char):04X})"


def reason_problem(reason: str | None) -> str | None:
    """Why a transition's reason («motivo») is refused, or None: the same rule at every entrance."""
    if reason is None:
        return None
    if len(reason) > MOTIVO_MAX:
        return f"può contenere al massimo {MOTIVO_MAX} caratteri"
    return control_character_problem(reason, multiline=True)


def year_problem(value: date, lo: int = YEAR_MIN, hi: int = YEAR_MAX) -> str | None:
    if not lo <= value.year <= hi:
        return f"la data deve cadere tra il {lo} e il {hi}"
    return None


def check_date_range(value: date) -> date:
    """AfterValidator of the declared date types: a year within YEAR_MIN..YEAR_MAX."""
    if (problem := year_problem(value)) is not None:
        raise ValueError(problem)
    return value


def check_unsigned_zero(value: Decimal) -> Decimal:
    """AfterValidator of amounts: "-0" (a signed zero) is not an amount."""
    if value.is_signed() and value == 0:
        raise ValueError("importo non valido: lo zero non ha segno")
    return value


# ----------------------------------------------------------------------------- the base of declared models


def _strip(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in _UNIONS:
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _metadata(info: Any, attr: str) -> Any:
    for item in info.metadata:
        value = getattr(item, attr, None)
        if value is not None:
            return value
    return None


def _has_own_range(info: Any) -> bool:
    return any(_metadata(info, attr) is not None for attr in ("ge", "gt", "le", "lt"))


def _texts(value: Any, annotation: Any, multiline: bool):
    """The strings inside a raw input value, as the field's type places them (nested models judge theirs)."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if annotation is str or (origin in _UNIONS and str in get_args(annotation)):
        if isinstance(value, str):
            yield value, multiline
    elif origin in (list, tuple, set, frozenset) and isinstance(value, (list, tuple, set, frozenset)):
        args = get_args(annotation)
        for item in value:
            yield from _texts(item, args[0] if args else str, False)
    elif origin is dict and isinstance(value, dict):
        args = get_args(annotation)
        for key, item in value.items():
            if isinstance(key, str):
                yield key, False
            yield from _texts(item, args[1] if len(args) == 2 else Any, False)


_NO_TEXT = (int, float, bool, Decimal, type(None), date, datetime)


class Bounded(BaseModel):
    """Base of every declared input model: text, lists, dates and amounts bounded as this module says."""

    model_config = ConfigDict(str_max_length=TEXT_MAX)

    @classmethod
    def bound_of(cls, name: str) -> int | None:
        """The maximum length of a text, list or mapping field (its own, or the default); None if the
        field is of another kind."""
        info = cls.model_fields[name]
        own = _metadata(info, "max_length")
        if own is not None:
            return own
        annotation = _strip(info.annotation)
        origin = get_origin(annotation)
        if annotation is str:
            return cls.model_config.get("str_max_length")
        if origin in (list, tuple, set, frozenset, dict):
            return LIST_MAX
        return None

    @field_validator("*", mode="before")
    @classmethod
    def _bounded_input(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None or type(value) in _NO_TEXT:  # numbers and flags hold no text, nothing to count
            return value
        plain_text, multiline = _plan(cls, info.field_name)
        if plain_text and type(value) is str:  # most text fields: one check, no walk over the annotation
            if (problem := control_character_problem(value, multiline=multiline)) is not None:
                raise ValueError(problem)
            return value
        field, own_max, _, walks = _facts(cls, info.field_name)
        if isinstance(value, (list, tuple, set, frozenset, dict)) and own_max is None:
            if len(value) > LIST_MAX:
                raise ValueError(f"sono ammessi al massimo {LIST_MAX} elementi")
        if not walks:  # a date, a number, a nested model...: _texts would find no text in it
            return value
        for text, lines in _texts(value, field.annotation, multiline):
            if (problem := control_character_problem(text, multiline=lines)) is not None:
                raise ValueError(problem)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _bounded_value(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        if isinstance(value, (date, datetime)) and not _facts(cls, info.field_name)[2]:
            if (problem := year_problem(value)) is not None:
                raise ValueError(problem)
        elif isinstance(value, Decimal):
            check_unsigned_zero(value)
        elif isinstance(value, float) and value == 0 and str(value).startswith("-"):
            raise ValueError("valore non valido: lo zero non ha segno")
        return value


@lru_cache(maxsize=None)
def _bound(cls: type[Bounded], name: str) -> int | None:
    return cls.bound_of(name)


@lru_cache(maxsize=None)
def _facts(cls: type[Bounded], name: str) -> tuple[Any, Any, bool, bool]:
    """(the field's info, its own max_length or None, whether it has its own ge/gt/le/lt, whether `_texts` can
    find text in a value of its type), looked up once per field: `cls.model_fields` is a property that rebuilds
    its answer on every read, and the annotation's walk is the same at every value."""
    info = cls.model_fields[name]
    annotation = _strip(info.annotation)
    origin = get_origin(annotation)
    walks = (annotation is str or (origin in _UNIONS and str in get_args(annotation))
             or origin in (list, tuple, set, frozenset, dict))  # the branches of _texts that can yield
    return info, _metadata(info, "max_length"), _has_own_range(info), walks


@lru_cache(maxsize=None)
def _plan(cls: type[Bounded], name: str) -> tuple[bool, bool]:
    """(the field is plain text, i.e. str or Optional[str]; it is multi-line), worked out once per field."""
    annotation = _strip(cls.model_fields[name].annotation)
    origin = get_origin(annotation)
    plain = annotation is str or (origin in _UNIONS and set(get_args(annotation)) <= {str, type(None)})
    return plain, (_bound(cls, name) or 0) > SINGLE_LINE_MAX
