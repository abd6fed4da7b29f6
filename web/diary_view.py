"""The case page's diary: the entries the reader may see, woven into the history by date (the case's timeline),
and the form to write one, offering only the data classes the user may write on this case."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.access import diary_refusal
from domain.diary import CLASSES, kinds_for
from services import case_pages
from services.diary import read_entries


def diary_context(svc: Any, user: Any, case_id: int, storia: list[dict[str, Any]], *,
                  values: dict[str, Any] | None = None, errors: list[Any] | None = None) -> dict[str, Any]:
    """`cronologia` (steps and entries by date), `diario` (the entries), and the form `modulo_diario` (None when
    the user writes no class of entry on this case)."""
    entries = read_entries(svc.engine, user.principal, case_id, now=svc.clock())
    names = case_pages.display_names(svc.engine, [e["autore"] for e in entries])
    for e in entries:
        e["autore_nome"] = names.get(e["autore"], e["autore"])
    ref = svc.scoped.case_ref(user.principal, case_id)
    classes = [label for label, cls in CLASSES.items() if diary_refusal(user.principal, ref, cls) is None]
    form = None
    if classes:
        form = {"tipi": kinds_for(ref.case_type), "classi": classes, "valori": values or {},
                "errori": {e.field: e.message for e in errors or []},
                "voci": [e["numero"] for e in entries if e["rettificata_da"] is None]}
    return {"cronologia": timeline(storia, entries), "diario": entries, "modulo_diario": form}


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def timeline(storia: list[dict[str, Any]], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps and the diary entries in one list by date (a step first on a tie), each marked by `voce`."""
    items = [(_moment(h["efficace_il"]), 0, i, {"voce": False, "passo": h}) for i, h in enumerate(storia)]
    items += [(e["avvenuto_il"], 1, i, {"voce": True, "diario": e}) for i, e in enumerate(entries)]
    return [item for *_, item in sorted(items, key=lambda t: t[:3])]
