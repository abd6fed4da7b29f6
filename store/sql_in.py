"""`column IN (values)` sent to PostgreSQL as one array parameter (`column = ANY(%(p)s::VARCHAR[])`).

SQLAlchemy's `in_` renders a list as one bound parameter per value at each execution ("expanding"), so a
statement filtered by a user's comuni or a case type's states is re-rendered, and re-parsed by psycopg (whose
parse cache skips statements with more than 50 parameters), on every request: about a quarter of Oggi's process
CPU at the demo's size (bench/RESULTS.md, 2026-12-07 h-pages2). `among(column, values)` keeps the statement's
text fixed: one array on PostgreSQL (`= ANY`, which PostgreSQL plans as it plans an IN list), the usual
expanding IN elsewhere (SQLite). Same rows either way; the caller handles an empty `values` (sa.false()).

`among_selected(column, subquery)` is the same device for values a subquery selects (one Ambito's case ids, a
sub-ambito's comuni): `column = ANY(ARRAY(subquery))` on PostgreSQL -- computed once, an array of unknown length
estimated small, so `column`'s own index is used (and, inside an OR, combined with the others' in a BitmapOr),
never a hash join against a scan of the whole table or a hashed subplan filtering every row the other terms read;
`IN (subquery)` elsewhere. Same rows (the subquery is not correlated).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.visitors import InternalTraversal


class Among(ColumnElement[bool]):
    __visit_name__ = "legami_among"
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("as_array", InternalTraversal.dp_clauseelement),
                           ("expanding", InternalTraversal.dp_clauseelement)]
    type = sa.Boolean()

    def __init__(self, column: ColumnElement[Any], values: Iterable[Any]):
        chosen = sorted(set(values))
        self.column = column
        self.as_array = sa.bindparam(None, chosen, type_=ARRAY(column.type))
        self.expanding = sa.bindparam(None, chosen, type_=column.type, expanding=True)

    def self_group(self, against=None):
        return sa.Grouping(self) if against is not None else self

    def _negate(self):  # NOT (...), as `not_(col.in_(...))` reads, on every dialect
        return UnaryExpression(sa.Grouping(self), operator=operators.inv, type_=sa.Boolean())


def among(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    return Among(column, values)


@compiles(Among)
def _among_default(element: Among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.expanding), **kw)


@compiles(Among, "postgresql")
def _among_postgresql(element: Among, compiler, **kw) -> str:
    return compiler.process(element.column == sa.any_(element.as_array), **kw)


class AmongSelected(ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], values: Any):
        self.column, self.values = column, values

    def self_group(self, against=None):
        return sa.Grouping(self) if against is not None else self

    def _negate(self):
        return UnaryExpression(sa.Grouping(self), operator=operators.inv, type_=sa.Boolean())


def among_selected(column: ColumnElement[Any], values: Any) -> ColumnElement[bool]:
    """`column` among the values the scalar subquery `values` selects (see the module's note)."""
    return AmongSelected(column, values)


@compiles(AmongSelected)
def _among_selected_default(element: AmongSelected, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} IN {compiler.process(element.values, **kw)}"


@compiles(AmongSelected, "postgresql")
def _among_selected_postgresql(element: AmongSelected, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{compiler.process(element.values, **kw)})"
