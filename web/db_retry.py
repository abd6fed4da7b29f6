"""A read that met a dead pooled database connection is answered, not turned into a 500 (issue 11).

After a database restart or a killed backend, the pool still holds connections that are gone; the first
statement on one fails, SQLAlchemy invalidates it (and the other connections of the same pool generation),
and a retry gets a fresh one. This pure ASGI middleware runs a GET or HEAD request once more when it failed
that way before anything was sent. Writes are never retried here: a step's unit of work retries only when the
failure came on its first statement, a read (services/cases.py), so nothing is applied twice.
A checkout ping (`pool_pre_ping`) would do the same for every request, at the cost of a round trip per
checkout: measured at about a third of a transition's time on PostgreSQL (bench/RESULTS.md).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def lost_connection(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


class RetryReadsOnLostConnection:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - only a lost connection is retried, the rest re-raised
            if started or not lost_connection(exc):
                raise
            await self.app(scope, receive, send)
