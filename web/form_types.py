"""What a form field's declared type says: optional, a nested model, a choice, a literal, a date; its default."""
from __future__ import annotations

from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo

from domain.fields import is_model as _is_model, strip_annotation as _strip  # noqa: F401  (web/forms.py)
from domain.registry import generation as registry_generation, value_labels as registry_value_labels

# labels of values shared by every case type; each type declares its own (`CaseType.value_labels`)
VALUE_LABELS: dict[str, str] = {"isee": "ISEE"}


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
    declared = registry_value_labels().get(text)
    return declared if declared is not None else text.replace("_", " ").capitalize()


# ----------------------------------------------------------------------------- type helpers

def _choices(annotation: Any) -> list[tuple[str, str]] | None:
    """(value, label) of an enumerated field's values. Kept per (annotation, registry generation): the labels
    come from the registered case types, so a registry change builds them again."""
    try:
        found = _kept_choices(annotation, registry_generation())
    except TypeError:  # an annotation that cannot be hashed
        found = _build_choices(annotation)
    return list(found) if found is not None else None


def _is_choice(annotation: Any) -> bool:
    """Whether the field is enumerated (what `_choices` says, without labelling every value)."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return True
    return get_origin(annotation) is Literal and not all(isinstance(v, bool) for v in get_args(annotation))


@lru_cache(maxsize=1024)
def _kept_choices(annotation: Any, _generation: int) -> tuple[tuple[str, str], ...] | None:
    found = _build_choices(annotation)
    return tuple(found) if found is not None else None


def _build_choices(annotation: Any) -> list[tuple[str, str]] | None:
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


