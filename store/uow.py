"""The one unit of work outside the hot path: a connection to read on, or a transaction to write in.

`reading(bind)` and `writing(bind)` are the same type (`Work`): given an Engine, a new connection (writing:
one transaction, committed when the block ends normally, rolled back when it raises); given a Connection,
the caller's own, so a read or write joins the unit of work already open (writing on a connection not yet
in a transaction begins one and commits it at the end of the block).

The hot path (`CaseService.open_case`/`advance`) keeps its own `store.cases.UnitOfWork` on a pooled DBAPI
connection: it issues raw statements for speed, and the engine's `World` reads through it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine

Bind = Engine | Connection


class Work:
    """`with Work(bind, write=...) as conn`; use `reading(bind)` / `writing(bind)`."""

    def __init__(self, bind: Bind, *, write: bool):
        self.bind = bind
        self.write = write
        self._owned: Connection | None = None  # a connection opened here, closed here
        self._begun: Any = None  # a transaction begun here, ended here

    def __enter__(self) -> Connection:
        if isinstance(self.bind, Connection):
            conn = self.bind
        else:
            conn = self._owned = self.bind.connect()
        if self.write and not conn.in_transaction():
            self._begun = conn.begin()
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        try:
            if self._begun is not None:
                if exc_type is None:
                    self._begun.commit()
                else:
                    self._begun.rollback()
        finally:
            if self._owned is not None:
                self._owned.close()


def reading(bind: Bind) -> Work:
    """A connection to read on: a new one from an Engine (closed at the end), or the caller's."""
    return Work(bind, write=False)


def writing(bind: Bind) -> Work:
    """A transaction to write in: committed at the end of the block, rolled back if it raises; on the caller's
    connection, its transaction."""
    return Work(bind, write=True)
