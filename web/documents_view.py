"""The case page's documents: the list the reader may see, the upload form (only the data classes the user may
add on this case), and what each offered transition requires (the form says so before it is refused)."""
from __future__ import annotations

from typing import Any

from domain.access import document_refusal
from domain.documents import CLASSES, DOC_TYPES, LABELS, allowed_kinds, required_for
from services.documents import list_documents


def documents_context(svc: Any, user: Any, case_id: int, *, values: dict[str, Any] | None = None,
                      errors: list[Any] | None = None) -> dict[str, Any]:
    """`documenti` (the list), `modulo_documenti` (None when the user adds no document here) and
    `documenti_richiesti` {transition: [(label, present)]} for the transitions the user may fire."""
    from config.settings import get_settings

    docs = list_documents(svc.engine, user.principal, case_id, now=svc.clock())
    ref = svc.scoped.case_ref(user.principal, case_id)
    classes = [label for label, cls in CLASSES.items()
               if document_refusal(user.principal, ref, cls, write=True) is None]
    form = None
    if classes:
        kinds = allowed_kinds(get_settings().documents_types)
        form = {"tipi": {k: v for k, v in DOC_TYPES.items() if k != "atto"}, "classi": classes,
                "valori": values or {}, "formati": ", ".join(k.upper() for k in kinds),
                "errori": [(LABELS.get(_field(e.field), e.label), e.message) for e in errors or []]}
    present = {d["tipo"] for d in docs}
    required = {}
    for name in svc.scoped.allowed(user.principal, case_id):
        types = required_for(ref.case_type, name)
        if types:
            required[name] = [(DOC_TYPES[t], t in present) for t in types]
    return {"documenti": docs, "modulo_documenti": form, "documenti_richiesti": required}


def _field(name: str) -> str:
    return {"tipo": "doc_type", "classe": "data_class"}.get(name, name)
