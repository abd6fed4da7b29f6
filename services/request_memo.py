"""Access facts read once per page: a case's authorisation keys and a worker's deputyships.

A case page asks «may this user read / fire / write the diary / add a document / generate an act on this
case?» through several services, each of which reads the case's keys (`store.case_reads.case_keys`) and, for a
social worker, the workers she stands in for today: nine and four identical reads per view. Inside
`once_per_request()` (a page's GET, entered by the route) each such read is made once and its answer kept
for the rest of the request; outside it (commands, the night, the CLI, tests calling services) nothing is kept.

Only reads are kept, and only for one request that does not change them: a route that records a step leaves
the memo before it writes, or never enters it (the POST handlers re-render a refused form inside a fresh one).
The memo is a context variable: the request's thread-pool calls see the same one, other requests never do.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_MEMO: ContextVar[dict[Hashable, object] | None] = ContextVar("legami_request_memo", default=None)


@contextmanager
def once_per_request() -> Iterator[None]:
    """Within the block, `remembered` computes each key once (a nested block shares the outer one's answers)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, once per key within `once_per_request()`; every time outside it."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[return-value]
