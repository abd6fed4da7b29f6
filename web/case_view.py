"""The case page's reading side: the history as the worker reads it (people by name, repeated records as
tables, the latest steps unfolded), and the pointer saying what the case waits for and who acts next
(`services.next_steps`), with the actions in its order: forward steps first, secondary ones after."""
from __future__ import annotations

from datetime import date
from typing import Any

from domain.handover import FROM_OWNER, TO_OWNER
from domain.workflow import ROLE_LABELS, Role, Workflow
from web.describe import Table, describe_blocks

OPEN_STEPS = 3  # the latest steps shown unfolded; the earlier ones fold under their one-line summary
FULL_STEPS = 6  # the latest steps the case page shows with their data; the older ones as one line each, their
# data on the «Storia completa» page (/casi/{id}/storia): a SAD case's monthly registers make a long history
SOON_DAYS = 5


def role_label(role: str | None) -> str | None:
    return ROLE_LABELS.get(Role(role)) if role in Role.__members__.values() else role


def people_named(wf: Workflow, rows: list[dict[str, Any]], owner: str | None) -> list[str]:
    """The usernames a case page names: its owner, every step's actor and every assignee a step recorded."""
    found = [owner] if owner else []
    for h in rows:
        t = wf.transition(h["transizione"])
        found += [h.get("attore"), h.get("per_conto_di"), *_handover_names(h)]
        if t is not None and t.assigns_owner and (h.get("dati") or {}).get(t.assigns_owner):
            found.append(h["dati"][t.assigns_owner])
    return [u for u in found if u]


def _handover_names(h: dict[str, Any]) -> list[str]:
    """The workers a reassignment or transfer step names (domain/handover.py)."""
    data = h.get("dati") or {}
    return [data[k] for k in (FROM_OWNER, TO_OWNER) if isinstance(data.get(k), str)]


def with_names(wf: Workflow, data: dict[str, Any], names: dict[str, str], providers: dict[str, str]) -> dict[str, Any]:
    """Recorded data with the assignee (the fields the declaration's steps assign an owner from) and the provider
    by name instead of username and code."""
    out = dict(data)
    for key in {t.assigns_owner for t in wf.transitions if t.assigns_owner} | {FROM_OWNER, TO_OWNER}:
        if isinstance(out.get(key), str):
            out[key] = names.get(out[key], out[key])
    if isinstance(out.get("ente"), str):
        out["ente"] = providers.get(out["ente"], out["ente"])
    return out


def history(wf: Workflow, rows: list[dict[str, Any]], names: dict[str, str],
            providers: dict[str, str], *, full: int | None = None) -> list[dict[str, Any]]:
    """Each step with its data as blocks (pairs and tables), its actor's name, and whether it starts unfolded.
    `full`: only the latest that many steps are described; the older ones are `compatto` (their summary line
    alone, their data not described). None: every step."""
    out = []
    first_open = max(len(rows) - OPEN_STEPS, 0)
    first_full = 0 if full is None else max(len(rows) - full, 0)
    for i, h in enumerate(rows):
        t = wf.transition(h["transizione"])
        compact = i < first_full
        data = {} if compact else with_names(wf, h.get("dati") or {}, names, providers)
        out.append({**h, "voci": runs(describe_blocks(wf, t, data)) if data else [], "compatto": compact,
                    "per_conto_di_nome": names.get(h.get("per_conto_di") or "", h.get("per_conto_di")),
                    "ruolo_etichetta": role_label(h.get("ruolo")),
                    "attore_nome": names.get(h.get("attore") or "", h.get("attore")),
                    "aperto": i >= first_open})
    return out


def ordered_forms(forms: list[Any], order: list[str], secondary: set[str]) -> tuple[list[Any], list[Any]]:
    """(forward forms, secondary forms), each in the pointer's order."""
    rank = {name: i for i, name in enumerate(order)}
    forms = sorted(forms, key=lambda f: rank.get(f.name, len(rank)))
    return [f for f in forms if f.name not in secondary], [f for f in forms if f.name in secondary]


def runs(blocks: list[tuple[str, str] | Table]) -> list[list[tuple[str, str]] | Table]:
    """Consecutive (label, value) pairs gathered into one list (one <dl>), tables kept apart."""
    out: list[list[tuple[str, str]] | Table] = []
    for b in blocks:
        if isinstance(b, Table):
            out.append(b)
        elif out and isinstance(out[-1], list):
            out[-1].append(b)
        else:
            out.append([b])
    return out


def deadline_badge(due: str | date | None, today: date) -> dict[str, str] | None:
    """The badge of a due date: overdue (red), within 5 days (amber), in time (green)."""
    if not due:
        return None
    day = due if isinstance(due, date) else date.fromisoformat(str(due))
    left = (day - today).days
    if left < 0:
        return {"testo": "In ritardo", "classe": "badge-scadenza-ritardo"}
    if left <= SOON_DAYS:
        return {"testo": "Oggi" if left == 0 else f"Entro {left} gg", "classe": "badge-scadenza-vicina"}
    return {"testo": "Nei termini", "classe": "badge-scadenza-ok"}
