"""Views of a declaration: a Mermaid state diagram and a table of its transitions."""
from __future__ import annotations

from typing import Any

from domain.workflow import ROLE_LABELS, Workflow


def to_mermaid(wf: Workflow) -> str:
    lines = ["stateDiagram-v2", f"    %% {wf.label}"]
    for s in wf.states:
        lines.append(f'    state "{s.label}" as {s.name}')
    for t in wf.transitions:
        sources = t.sources or ("[*]",)
        for src in sources:
            lines.append(f"    {src} --> {t.target}: {t.label}")
    for s in wf.states:
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines)


def transition_rows(wf: Workflow) -> list[dict[str, Any]]:
    rows = []
    for t in wf.transitions:
        rows.append(
            {
                "transizione": t.name,
                "etichetta": t.label,
                "da": list(t.sources) or ["∅"],
                "a": t.target,
                "ruoli": sorted(ROLE_LABELS[r] for r in t.roles),
                "dati": _fields(t.data) if t.data else [],
                "motivo_obbligatorio": t.requires_reason,
                "condizioni": [g.description for g in t.guards],
                "scadenze": [
                    {
                        "tipo": r.kind,
                        "etichetta": r.label,
                        "termine": r.describe_days(),
                        "base": "lavorativi" if r.basis.value == "working" else "di calendario",
                        "fonte": "normativa" if r.source.value == "statutory" else "configurata",
                        "soddisfatta_da": list(r.met_by),
                    }
                    for r in t.starts
                ],
                "automatica": t.automatic,
            }
        )
    return rows


def _fields(model) -> list[dict[str, Any]]:
    return [
        {"campo": name, "etichetta": f.title or name, "obbligatorio": f.is_required()}
        for name, f in model.model_fields.items()
    ]
