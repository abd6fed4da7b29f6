"""The statements an engine sends, for tests that assert how a page reads (not what it shows)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def statements_seen(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement `engine` sends inside the block, its whitespace collapsed to single spaces."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
