"""The breakdown keys of the tallies, in SQL (`key_sql`) and in Python over a grain row (`key`), and the one
statement that groups a query by a key with its total (`by_key`)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.indicators import DISTRICT, age_band
from store.ambito_filter import case_in_ambito
from store.sql_in import among_selected
from store.tables import Comune, case_t, transition_t

comune_t = Comune.__table__


def in_ambito(period: Any) -> Any:
    """The condition over `case_file` bounding the tallies to `period.ambito` (true when none): the case's own
    Ambito, `case_file.ambito_code` (store/ambito_filter.py, as the access module, the sweep and the obligations
    say it), read through the indexes that lead with it."""
    return case_in_ambito(period.ambito)


def ambito_steps(period: Any, steps: Any = transition_t) -> Any:
    """`steps` (case_transition or an alias) joined to their case when the tallies are one Ambito's, so that an
    aggregate over the history groups only that Ambito's cases' rows; the history alone for the whole instance.
    Pair with `in_ambito(period)` and `steps_in_ambito(period, steps)` in the WHERE."""
    if period.ambito is None:
        return steps
    return steps.join(case_t, case_t.c.id == steps.c.case_id)


def steps_in_ambito(period: Any, steps: Any = transition_t) -> Any:
    """The condition over case_transition (or an alias) bounding the steps to `period.ambito`'s cases (true when
    none), stated on the history itself so that PostgreSQL reads them through the `(case_id, seq)` index: the
    Ambito's case ids as one array (`case_id = ANY(ARRAY(SELECT ...))`), never a hash join against a scan of the
    whole history (30M rows at region size: the planner chose that for a join on case_file.ambito_code alone).
    Elsewhere `case_id IN (SELECT ...)`. The same cases as `in_ambito(period)`."""
    if period.ambito is None:
        return sa.true()
    ambito_case = case_t.alias("ambito_case")
    ids = (sa.select(ambito_case.c.id).where(ambito_case.c.ambito_code == period.ambito.code)
           .correlate(None).scalar_subquery())
    return among_selected(steps.c.case_id, ids)


def key_sql(by: str):
    """`key` as a SQL expression, for rows with no FNA measure or birth year (intervals, deadlines)."""
    return {
        "sub_ambito": sa.func.coalesce(comune_t.c.sub_ambito, DISTRICT),
        "comune": sa.func.coalesce(comune_t.c.nome, DISTRICT),
        "distretto": sa.func.coalesce(comune_t.c.distretto, DISTRICT),
        "ente_gestore": sa.func.coalesce(comune_t.c.ente_gestore, DISTRICT),
        "type": sa.func.coalesce(case_t.c.kind, "—"),
        "misura": sa.literal("—"),
        "fascia_eta": sa.literal("—"),
        "ente": sa.func.coalesce(case_t.c.provider_codice, "—"),
    }.get(by)


def by_key(conn: Connection, q, key) -> list[tuple[str, tuple]]:
    """(key, figures) per value of the `key` expression, and ("totale", figures) over all (`key` None: only that):
    ROLLUP on PostgreSQL, a second statement elsewhere."""
    if key is None:
        return [("totale", tuple(conn.execute(q).one()))]
    if conn.dialect.name == "postgresql":
        rows = conn.execute(q.add_columns(key.label("key")).group_by(sa.func.rollup(key))).all()
        return [("totale" if r[-1] is None else r[-1], tuple(r[:-1])) for r in rows]
    rows = [(r[-1], tuple(r[:-1])) for r in conn.execute(q.add_columns(key.label("key")).group_by(key))]
    return [("totale", tuple(conn.execute(q).one())), *rows]


def key(row: Any, by: str, names: dict[str, str], year: int) -> str:
    """The breakdown key of a grain row (comune_istat, sub_ambito, kind, misura, nato, provider_codice)."""
    if by == "totale":
        return "totale"
    if by == "sub_ambito":
        return row.sub_ambito or DISTRICT
    if by in ("comune", "distretto", "ente_gestore"):  # `names`: comune → its name, distretto or managing body
        return names.get(row.comune_istat, DISTRICT)
    if by == "type":
        return row.kind or "—"
    if by == "misura":
        return row.misura or "—"
    if by == "fascia_eta":
        return age_band(year - row.nato) if row.nato else "—"
    return row.provider_codice or "—"
