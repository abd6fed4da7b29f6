"""The provider portal's reads (services/provider_portal.py), set-based: one statement each for all the cases
listed on the page, instead of a whole case read per case (535 statements for ~30 cases at 100,000)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from store.tables import case_t, deadline_t, transition_t
from store.uow import Bind, reading


def data_keys(bind: Bind, case_ids: list[int], keys: Iterable[str]) -> dict[int, dict[str, Any]]:
    """{case id: {key: value}} of the named top-level keys of each case's data (read in SQL, not the whole data)."""
    keys = list(keys)
    cols = [case_t.c.data[k].label(f"k{i}") for i, k in enumerate(keys)]
    with reading(bind) as conn:
        rows = conn.execute(sa.select(case_t.c.id, *cols).where(case_t.c.id.in_(case_ids))).all()
    return {r.id: {k: r[i + 1] for i, k in enumerate(keys) if r[i + 1] is not None} for r in rows}


def open_deadlines(bind: Bind, case_ids: list[int]) -> dict[int, list[Any]]:
    """{case id: its open deadline rows, earliest first}."""
    with reading(bind) as conn:
        rows = conn.execute(sa.select(deadline_t).where(deadline_t.c.case_id.in_(case_ids),
                                                        deadline_t.c.status == "open")
                            .order_by(deadline_t.c.case_id, deadline_t.c.due, deadline_t.c.id)).all()
    out: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        out[r.case_id].append(r)
    return out


def step_texts(bind: Bind, case_ids: list[int], paths: dict[str, tuple[str, ...]]) -> dict[int, list[tuple[str, Any]]]:
    """{case id: [(transition, text at that transition's path in its data)] in step order} for the transitions
    named in `paths` (a visit register's month, the first visit's day: not every visit of every register)."""
    value = sa.case(*((transition_t.c.transition == t, transition_t.c.data[p].as_string()) for t, p in paths.items()))
    with reading(bind) as conn:
        rows = conn.execute(sa.select(transition_t.c.case_id, transition_t.c.transition, value.label("value"))
                            .where(transition_t.c.case_id.in_(case_ids), transition_t.c.transition.in_(list(paths)))
                            .order_by(transition_t.c.case_id, transition_t.c.seq)).all()
    out: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r.case_id].append((r.transition, r.value))
    return out
