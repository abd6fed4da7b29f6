"""Field classes (DOMAIN.md §2): what kind of personal data a field of a case holds. Pure.

Each case type declares the class of its fields with its declaration (`CaseType.fields`); keys may be paths
into nested data, so that a stored snapshot is classified down to its leaves:

- `"graduatoria"`: a top-level key of the case's (or a step's) data;
- `"posizioni[].dettaglio.adl"`: inside a list of records (`[]`) and a mapping (`.`);
- `"posizioni[].dettaglio.*"`: every key of a mapping whose keys are not known in advance.

A nested key takes the class declared for its path, else the class of a field of the same name declared
HEALTH anywhere (health data is health data wherever it is copied), else its parent's class. A top-level
field nobody classified is treated as health data (fail closed) and refused when the declaration loads.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel


class FieldClass(StrEnum):
    IDENTITY = "identity"  # persona: name, codice fiscale, birth date, contacts
    ADMINISTRATIVE = "administrative"  # protocol, IBAN, amounts, ISEE, payments, acts and their dates
    SOCIAL = "social"  # notes, needs, resources, objectives of a pact, reports, reasons
    HEALTH = "health"  # ADL/IADL, disability and attendance-allowance flags, PAI clinical notes (art. 9 GDPR)
    CARE_PLAN = "care_plan"  # the operational PAI: services, hours, voucher validity, visits


FIELD_CLASS_LABELS: dict[FieldClass, str] = {
    FieldClass.IDENTITY: "dati anagrafici",
    FieldClass.ADMINISTRATIVE: "dati amministrativi",
    FieldClass.SOCIAL: "note e valutazioni sociali",
    FieldClass.HEALTH: "dati sanitari",
    FieldClass.CARE_PLAN: "piano di assistenza",
}
ALL_CLASSES: frozenset[FieldClass] = frozenset(FieldClass)
_I, _A, _S, _H = FieldClass.IDENTITY, FieldClass.ADMINISTRATIVE, FieldClass.SOCIAL, FieldClass.HEALTH

# Fields with the same meaning in every case type (a type's own table is read first).
COMMON_FIELDS: dict[str, FieldClass] = {
    "persona": _I,
    "protocollo": _A,
    "tipologia": _A,
    "ente": _A,
    "modulo_firmato_il": _A,
    "firmato_il": _A,
    "dichiarazione_del": _A,
    "esito": _A,  # the outcome is also shown with the case's state
    "motivo_esito": _S,
    # recorded by a reassignment or a transfer step (domain/handover.py), on every case type
    "assegnatario_precedente": _A,
    "nuovo_assegnatario": _A,
    "comune_precedente": _A,
    "nuovo_comune": _A,
}


def class_by_type(annotation: Any, metadata: list[Any] | None = None) -> FieldClass | None:
    """The class a field's declared type implies, if any (through Optional[...] and Annotated[...])."""
    from domain.common import Persona
    from domain.validation import Isee, validate_codice_fiscale, validate_iban

    metadata = metadata or []
    if get_origin(annotation) in (Union, UnionType):
        found = {class_by_type(a) for a in get_args(annotation) if a is not type(None)}
        return found.pop() if len(found) == 1 else None
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        inner = [m for e in extra for m in (getattr(e, "metadata", None) or [e])]
        return class_by_type(base, [*metadata, *inner])
    if isinstance(annotation, type) and issubclass(annotation, Persona):
        return _I
    if isinstance(annotation, type) and issubclass(annotation, Isee):
        return _A
    validators = {getattr(m, "func", None) for m in metadata}
    if validate_codice_fiscale in validators:
        return _I
    if validate_iban in validators:
        return _A
    if annotation is Decimal and any(getattr(m, "decimal_places", None) == 2 for m in metadata):
        return _A  # domain.validation.Euro: an amount
    return None


def strip_annotation(annotation: Any) -> tuple[Any, bool]:
    """(annotation without Annotated/Optional, whether None is allowed): what the forms and the import template
    read of a field's type. A pure function of the (immutable) annotation, asked for every value a case page
    describes: kept per annotation."""
    try:
        return _stripped(annotation)
    except TypeError:  # an annotation that cannot be hashed
        return _strip_annotation(annotation)


@lru_cache(maxsize=2048)
def _stripped(annotation: Any) -> tuple[Any, bool]:
    return _strip_annotation(annotation)


def _strip_annotation(annotation: Any) -> tuple[Any, bool]:
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(members) < len(get_args(annotation))
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation, optional


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The record type inside a field (`X`, `X | None`, `list[X]`), if it is a pydantic model."""
    if get_origin(annotation) is Annotated:
        return nested_model(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType, list, tuple):
        found = [m for a in get_args(annotation) if (m := nested_model(a)) is not None]
        return found[0] if found else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


CHILDREN_KEPT = 20_000


class FieldMap:
    """The classes of one case type's fields, top-level and nested, with the lookups redaction needs."""

    def __init__(self, top: Mapping[str, FieldClass], nested: Mapping[str, FieldClass],
                 health_names: frozenset[str]):
        self.top = dict(top)
        self.nested = dict(nested)
        self.health_names = health_names
        self._children: dict[tuple[str, str, FieldClass], tuple[str, FieldClass]] = {}

    def of(self, name: str) -> FieldClass:
        """The class of a top-level key; a key nobody classified is health data (fail closed)."""
        return self.top.get(name) or COMMON_FIELDS.get(name) or _H

    def child(self, path: str, key: str, parent: FieldClass) -> tuple[str, FieldClass]:
        """(path of `key` under `path`, its class). Kept per (path, key, parent) for this map, whose lookups never
        change (redacting a call's ranking asks the same few paths thousands of times); at most CHILDREN_KEPT."""
        found = self._children.get((path, key, parent))
        if found is None:
            found = self._child(path, key, parent)
            if len(self._children) < CHILDREN_KEPT:
                self._children[(path, key, parent)] = found
        return found

    def _child(self, path: str, key: str, parent: FieldClass) -> tuple[str, FieldClass]:
        sub = f"{path}.{key}"
        found = self.nested.get(sub) or self.nested.get(f"{path}.*")
        if found is None:
            found = _H if key in self.health_names else parent
        return sub, found

    def has_nested(self, name: str) -> bool:
        return any(p.startswith((name + ".", name + "[]")) for p in self.nested)

    def split_health(self, name: str, value: Any) -> tuple[Any, Any]:
        """(`value` of top-level field `name` without its nested health parts, those parts or None).

        The parts keep the value's shape (`merge_health` puts them back): a mapping holds only its health keys
        (or sub-mappings holding some), a list one item per item (None where an item holds none)."""
        return self._split(name, value, self.of(name))

    def _split(self, path: str, value: Any, cls: FieldClass) -> tuple[Any, Any]:
        if isinstance(value, list):
            pairs = [self._split(path + "[]", v, cls) for v in value]
            if all(h is None for _, h in pairs):
                return value, None
            return [p for p, _ in pairs], [h for _, h in pairs]
        if isinstance(value, dict):
            plain: dict[str, Any] = {}
            health: dict[str, Any] = {}
            for key, item in value.items():
                sub, sub_cls = self.child(path, str(key), cls)
                if sub_cls is _H:
                    health[key] = item
                    continue
                plain[key], part = self._split(sub, item, sub_cls)
                if part is not None:
                    health[key] = part
            return (plain, health) if health else (value, None)
        return value, None

    def filter(self, name: str, value: Any, visible: frozenset[FieldClass],
               hidden: set[FieldClass], seen: set[str] | None = None) -> Any:
        """`value` of top-level field `name` with every nested part of a class not in `visible` removed.

        `hidden` collects the classes removed; `seen` (if given) the health paths kept (for the read log). A
        reader who sees every class gets `value` itself (nothing to take out, so nothing copied)."""
        if visible >= ALL_CLASSES:
            if seen is not None:
                self._note_health(name, value, self.of(name), seen)
            return value
        return self._walk(name, value, self.of(name), visible, hidden, seen)

    def _note_health(self, path: str, value: Any, cls: FieldClass, seen: set[str]) -> None:
        """The health paths in `value`, as `_walk` would collect them when every class is visible (a call's
        ranking snapshots hold ~6,000 values: leaves are not a call each)."""
        if isinstance(value, list):
            sub = path + "[]"
            for v in value:
                if isinstance(v, (list, dict)):
                    self._note_health(sub, v, cls, seen)
                elif cls is _H:
                    seen.add(sub)
        elif isinstance(value, dict):
            kept, child = self._children, self.child
            for key, item in value.items():
                sub, sub_cls = kept.get((path, key, cls)) or child(path, str(key), cls)
                if isinstance(item, (list, dict)):
                    self._note_health(sub, item, sub_cls, seen)
                elif sub_cls is _H:
                    seen.add(sub)
        elif cls is _H:
            seen.add(path)

    def _walk(self, path: str, value: Any, cls: FieldClass, visible: frozenset[FieldClass],
              hidden: set[FieldClass], seen: set[str] | None) -> Any:
        if isinstance(value, list):
            return [self._walk(path + "[]", v, cls, visible, hidden, seen) for v in value]
        if isinstance(value, dict):
            kept = {}
            for key, item in value.items():
                sub, sub_cls = self.child(path, str(key), cls)
                if sub_cls not in visible:
                    hidden.add(sub_cls)
                    continue
                kept[key] = self._walk(sub, item, sub_cls, visible, hidden, seen)
            return kept
        if cls is _H and seen is not None:
            seen.add(path)
        return value


def merge_health(plain: Any, health: Any) -> Any:
    """`plain` with the health parts split out of it (`FieldMap.split_health`, or whole top-level keys) put
    back: the inverse of the split."""
    if health is None:
        return plain
    if isinstance(plain, dict) and isinstance(health, dict):
        merged = dict(plain)
        for key, part in health.items():
            merged[key] = merge_health(plain[key], part) if key in plain else part
        return merged
    if isinstance(plain, list) and isinstance(health, list):
        return [merge_health(p, health[i]) if i < len(health) else p for i, p in enumerate(plain)]
    return health
