"""The materialised tallies: one body per as-of day, replaced when the daily flow runs again that day."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.tables import tally_snapshot_t
from store.uow import Bind, reading


def replace(conn: Connection, as_of: date, body: dict[str, Any]) -> None:
    conn.execute(tally_snapshot_t.delete().where(tally_snapshot_t.c.as_of == as_of))
    conn.execute(tally_snapshot_t.insert(), {"as_of": as_of, "computed_at": datetime.now(timezone.utc), "body": body})


def body(bind: Bind, as_of: date) -> dict[str, Any] | None:
    with reading(bind) as conn:
        return conn.execute(sa.select(tally_snapshot_t.c.body).where(tally_snapshot_t.c.as_of == as_of)).scalar()


def replace_ambito(conn: Connection, ambito_code: str, as_of: date, body: dict[str, Any]) -> None:
    from store.tables import ambito_tally_snapshot_t as t

    conn.execute(t.delete().where(t.c.ambito_code == ambito_code, t.c.as_of == as_of))
    conn.execute(t.insert(), {"ambito_code": ambito_code, "as_of": as_of, "computed_at": datetime.now(timezone.utc),
                              "body": body})


def ambito_body(bind: Bind, ambito_code: str, as_of: date) -> dict[str, Any] | None:
    from store.tables import ambito_tally_snapshot_t as t

    with reading(bind) as conn:
        return conn.execute(sa.select(t.c.body).where(t.c.ambito_code == ambito_code, t.c.as_of == as_of)).scalar()
