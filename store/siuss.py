"""The SIUSS flows in the database: the steps that make a benefit, what was last sent for each case, the flows
and their items, and INPS's outcomes (services/siuss.py decides; nothing here does)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import groupby
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.tables import case_t, person_merge_t, person_t, siuss_flow_t, siuss_item_t, siuss_pending_t, transition_t

f, i = siuss_flow_t, siuss_item_t
EXPORT_LOCK = 0x51055  # the advisory lock key of SIUSS exports (PostgreSQL)

ID_CHUNK = 10_000


def benefit_steps(conn: Connection, case_type: str, transitions: Iterable[str], up_to: date,
                  register: tuple[str, str, str] | None = None, ambito: str | None = None,
                  case_ids: Iterable[int] | None = None) -> list[tuple[Any, list]]:
    """[(case row with its person, [its steps among `transitions` effective by `up_to`, in order])] for the cases
    of `case_type` with a person that took a step among `transitions` by then. Of the `register` steps
    (transition, month key, hours key: a monthly visit register holds every visit) only those two keys are read,
    in SQL. `ambito`: only that Ambito's cases; `case_ids`: only those cases (at most ID_CHUNK)."""
    c, t, p = case_t.c, transition_t.c, person_t.c
    names = sorted(set(transitions) - ({register[0]} if register else set()))
    where = (c.case_type == case_type, c.person_id.is_not(None), t.effective_on <= up_to,
             *([c.ambito_code == ambito] if ambito else []),
             *([c.id.in_(sorted(set(case_ids)))] if case_ids is not None else []))
    q = (sa.select(t.case_id, t.seq, t.transition, t.effective_on, t.data).join(case_t, c.id == t.case_id)
         .where(*where, t.transition.in_(names)))
    rows = [(r.case_id, r.seq, r.transition, r.effective_on, r.data or {}) for r in conn.execute(q)]
    if register is not None:
        name, month, hours = register
        q = (sa.select(t.case_id, t.seq, t.effective_on, t.data[month].as_string().label("month"),
                       t.data[hours].as_string().label("hours")).join(case_t, c.id == t.case_id)
             .where(*where, t.transition == name))
        rows += [(r.case_id, r.seq, name, r.effective_on, {month: r.month, hours: r.hours}) for r in conn.execute(q)]
    rows.sort(key=lambda r: (r[0], r[1]))
    steps = {case_id: [SimpleNamespace(transition=r[2], effective_on=r[3], data=r[4]) for r in group]
             for case_id, group in groupby(rows, key=lambda r: r[0])}
    if not steps:
        return []
    ids = sorted(steps)  # bound in chunks: a driver takes at most 65,535 parameters (a region holds more cases)
    people = [row for i in range(0, len(ids), ID_CHUNK) for row in conn.execute(
        sa.select(c.id, c.comune_istat, c.case_type, p.codice_fiscale, p.cognome, p.nome, p.data_nascita,
                  p.provisional_code).join(person_t, p.id == c.person_id).where(c.id.in_(ids[i:i + ID_CHUNK]))
        .order_by(c.id))]
    return [(row, steps[row.id]) for row in people]


def lock_exports(conn: Connection) -> None:
    """Serialise exports: two at once would both see a benefit as unsent. PostgreSQL: a transaction-scoped
    advisory lock; SQLite: an empty write takes the database's write lock for the rest of the transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(EXPORT_LOCK)))
    else:
        conn.execute(sa.delete(f).where(sa.false()))


def last_sent(conn: Connection, case_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """{case id: {operation, attributes, flow}} of the latest item sent for each case (`case_ids`: of those)."""
    ids = sorted(set(case_ids)) if case_ids is not None else None
    if ids is not None and len(ids) > ID_CHUNK:
        return {k: v for n in range(0, len(ids), ID_CHUNK) for k, v in last_sent(conn, ids[n:n + ID_CHUNK]).items()}
    latest = sa.select(sa.func.max(i.c.id)).group_by(i.c.case_id)
    if ids is not None:
        latest = latest.where(i.c.case_id.in_(ids))
    rows = conn.execute(sa.select(i.c.case_id, i.c.operation, i.c.attributes, f.c.name)
                        .join(f, f.c.id == i.c.flow_id).where(i.c.id.in_(latest.scalar_subquery()))).all()
    return {r.case_id: {"operation": r.operation, "attributes": r.attributes, "flow": r.name} for r in rows}


def last_period(conn: Connection) -> str | None:
    return conn.execute(sa.select(sa.func.max(f.c.period))).scalar()


def flows_named_like(conn: Connection, prefix: str) -> int:
    return conn.execute(sa.select(sa.func.count()).where(f.c.name.like(f"{prefix}%"))).scalar_one()


def insert_flow(conn: Connection, flow: dict[str, Any], items: list[dict[str, Any]]) -> int:
    flow_id = conn.execute(f.insert().returning(f.c.id), flow).scalar_one()
    conn.execute(i.insert(), [{**item, "flow_id": flow_id} for item in items])
    return flow_id


def flows(conn: Connection) -> list[Any]:
    """Every flow, newest first, with its content counts and outcomes."""
    n = sa.func.count(i.c.id)
    q = (sa.select(f.c.id, f.c.name, f.c.kind, f.c.period, f.c.created_at, f.c.created_by, f.c.sha256,
                   n.label("items"),
                   sa.func.count(sa.distinct(i.c.codice_fiscale)).label("beneficiaries"),
                   sa.func.sum(sa.case((i.c.operation == "I", 1), else_=0)).label("inserts"),
                   sa.func.sum(sa.case((i.c.operation == "C", 1), else_=0)).label("cancels"),
                   sa.func.sum(sa.case((i.c.outcome == "OK", 1), else_=0)).label("accepted"),
                   sa.func.sum(sa.case((sa.and_(i.c.outcome.is_not(None), i.c.outcome != "OK"), 1), else_=0))
                   .label("rejected"),
                   sa.func.sum(sa.case((i.c.outcome.is_(None), 1), else_=0)).label("pending"))
         .outerjoin(i, i.c.flow_id == f.c.id).group_by(f.c.id).order_by(f.c.id.desc()))
    return conn.execute(q).all()


def flow(conn: Connection, flow_id: int) -> Any | None:
    return conn.execute(sa.select(f).where(f.c.id == flow_id)).first()


def flow_ids_by_name(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    return dict(conn.execute(sa.select(f.c.name, f.c.id).where(f.c.name.in_(sorted(set(names))))).all())


def items_of_flows(conn: Connection, flow_ids: Iterable[int]) -> list[Any]:
    return conn.execute(sa.select(i).where(i.c.flow_id.in_(sorted(set(flow_ids)))).order_by(i.c.id)).all()


def record_outcome(conn: Connection, item_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(i).where(i.c.id == item_id).values(**values))


def items_of_case(conn: Connection, case_id: int) -> list[Any]:
    return conn.execute(sa.select(i, f.c.name.label("flow_name"), f.c.period).join(f, f.c.id == i.c.flow_id)
                        .where(i.c.case_id == case_id).order_by(i.c.id)).all()


# ----------------------------------------------------------------------------- the obligation's kept answer

def marks(conn: Connection) -> tuple[int, int, int]:
    """(last step id, last flow item id, last person merge id): what a computation of the pending benefits saw.
    Steps and items are append-only; a codice fiscale changes only with a merge (services/person.py)."""
    one = lambda col: conn.execute(sa.select(sa.func.coalesce(sa.func.max(col), 0))).scalar_one()  # noqa: E731
    return one(transition_t.c.id), one(i.c.id), one(person_merge_t.c.id)


def touched_since(conn: Connection, case_types: Iterable[str], ambito: str | None,
                  seen: tuple[int, int, int]) -> set[int]:
    """The cases of `case_types` (in `ambito`) whose SIUSS answer may differ from what a computation that saw
    `seen` (see `marks`) found: a step, a flow item or a merge of their person after it (index range scans)."""
    c, t = case_t.c, transition_t.c
    types = sorted(set(case_types))
    in_scope = (c.case_type.in_(types), *([c.ambito_code == ambito] if ambito else []))
    q = sa.union(
        sa.select(t.case_id).join(case_t, c.id == t.case_id).where(t.id > seen[0], *in_scope),
        sa.select(i.c.case_id).join(case_t, c.id == i.c.case_id).where(i.c.id > seen[1], *in_scope),
        sa.select(c.id).join(person_merge_t, person_merge_t.c.into_person_id == c.person_id)
        .where(person_merge_t.c.id > seen[2], *in_scope))
    return set(conn.execute(q).scalars())


def kept_pending(conn: Connection, ambito: str, up_to: date) -> Any | None:
    s = siuss_pending_t.c
    return conn.execute(sa.select(siuss_pending_t).where(s.ambito_code == ambito, s.up_to == up_to)).first()


def keep_pending(conn: Connection, values: dict[str, Any]) -> None:
    """Replace the kept answer for (Ambito, up_to) (one row a month per Ambito)."""
    s = siuss_pending_t.c
    conn.execute(siuss_pending_t.delete().where(s.ambito_code == values["ambito_code"], s.up_to == values["up_to"]))
    conn.execute(siuss_pending_t.insert(), values)
