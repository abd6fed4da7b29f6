"""The registry of declared case types. A new measure is one more `register(...)` call."""
from __future__ import annotations

from domain.errors import UnknownCaseType
from domain.workflow import Workflow

_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    _REGISTRY[workflow.case_type] = workflow
    return workflow


def unregister(case_type: str) -> None:
    _REGISTRY.pop(case_type, None)


def get_workflow(case_type: str) -> Workflow:
    _load_builtin()
    try:
        return _REGISTRY[case_type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownCaseType(f"tipo di caso «{case_type}» sconosciuto (disponibili: {known})") from None


def all_workflows() -> list[Workflow]:
    _load_builtin()
    return list(_REGISTRY.values())


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from domain.workflows.fna import BANDO, DOMANDA
    from domain.workflows.patto import PATTO
    from domain.workflows.sad import ADESIONE, CASO

    for wf in (PATTO, BANDO, DOMANDA, ADESIONE, CASO):
        _REGISTRY.setdefault(wf.case_type, wf)
