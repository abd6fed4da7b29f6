"""The registry of case types. A new measure is one more package under domain/casetypes/ listed in BUILTIN.

Everything that depends on the case types (engine, store, pages, API, CLI, tallies, report, dashboard, Oggi,
calendar feed, demo, access) reads them here. Loading checks every key that binds a type's pieces and the
keys across types (`domain.casetype`), so a bad declaration is refused at import.
"""
from __future__ import annotations

import importlib

from domain.casetype import CaseType, DeclarationError, IndicatorGroup, registry_problems
from domain.errors import UnknownCaseType
from domain.workflow import Workflow

BUILTIN = ("domain.casetypes.patto", "domain.casetypes.fna", "domain.casetypes.sad",
           "domain.casetypes.bonus_famiglia",
           "domain.casetypes.misura_esterna",
)

_REGISTRY: dict[str, CaseType] = {}
_loaded = False
_generation = 0  # bumped on every change: lets readers cache what they derive from the registry


def generation() -> int:
    _load_builtin()
    return _generation


def register(case_type: CaseType | Workflow) -> CaseType:
    """Add a case type (a bare Workflow gets an empty bundle of its own group, and the same checks)."""
    _load_builtin()
    ct = case_type if isinstance(case_type, CaseType) else CaseType(
        workflow=case_type, group=IndicatorGroup(case_type.case_type, case_type.label))
    found = registry_problems([*(t for t in _REGISTRY.values() if t.case_type != ct.case_type), ct])
    if found:
        raise DeclarationError("; ".join(found))
    global _generation
    _REGISTRY[ct.case_type] = ct
    _generation += 1
    return ct


def unregister(case_type: str) -> None:
    global _generation
    _REGISTRY.pop(case_type, None)
    _generation += 1


def get_case_type(case_type: str) -> CaseType:
    _load_builtin()
    try:
        return _REGISTRY[case_type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownCaseType(f"tipo di caso «{case_type}» sconosciuto (disponibili: {known})") from None


def find_case_type(case_type: str) -> CaseType | None:
    _load_builtin()
    return _REGISTRY.get(case_type)


def get_workflow(case_type: str) -> Workflow:
    return get_case_type(case_type).workflow


def all_case_types() -> list[CaseType]:
    _load_builtin()
    return list(_REGISTRY.values())


def all_workflows() -> list[Workflow]:
    return [ct.workflow for ct in all_case_types()]


_labels: tuple[int, dict[str, str]] = (-1, {})


def value_labels() -> dict[str, str]:
    """Every case type's labels of its enumerated values ("centro_impiego" -> "Centro per l'impiego")."""
    global _labels
    if _labels[0] != generation():
        found: dict[str, str] = {}
        for ct in all_case_types():
            found.update(ct.value_labels)
        _labels = (generation(), found)
    return _labels[1]


def groups() -> list[IndicatorGroup]:
    """The indicator groups in registry order, each once."""
    seen: dict[str, IndicatorGroup] = {}
    for ct in all_case_types():
        seen.setdefault(ct.group.code, ct.group)
    return list(seen.values())


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    types: list[CaseType] = []
    for module in BUILTIN:
        types += importlib.import_module(module).CASE_TYPES
    found = registry_problems(types)
    if found:
        _loaded = False
        raise DeclarationError("; ".join(found))
    for ct in types:
        _REGISTRY.setdefault(ct.case_type, ct)
