"""Web sessions (by token hash) and the login throttle (failures per typed username)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.auth_tables import login_throttle_t, web_session_t
from store.users import ActingUser, acting_columns, acting_from_rows, acting_join, user_t

session_t = web_session_t
throttle_t = login_throttle_t


# ----------------------------------------------------------------------------- web sessions


def insert_session(conn: Connection, row: dict[str, Any]) -> None:
    """A new session; the sessions expired before `row["created_at"]` are removed first."""
    conn.execute(session_t.delete().where(session_t.c.expires_at < row["created_at"]))
    conn.execute(session_t.insert(), row)


def session(conn: Connection, token_hash: str) -> Any | None:
    return conn.execute(sa.select(session_t).where(session_t.c.token_hash == token_hash)).first()


def session_and_user(conn: Connection, token_hash: str) -> tuple[Any, ActingUser | None] | None:
    """The session of `token_hash` and its user if still active (with the comuni of their sub-ambito), in one
    statement: what every request made with the session cookie reads. None: no such session."""
    rows = conn.execute(_SESSION_AND_USER, {"token_hash": token_hash}).all()
    return (rows[0], acting_from_rows(rows)) if rows else None


def _session_and_user() -> sa.Select:
    s = session_t.c
    return (sa.select(s.username, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, *acting_columns())
            .select_from(acting_join(session_t, user_t.c.username == s.username))
            .where(s.token_hash == sa.bindparam("token_hash")))


_SESSION_AND_USER = _session_and_user()  # built once: every request with the session cookie reads it


def touch_session(conn: Connection, token_hash: str, last_seen_at: datetime, expires_at: datetime) -> None:
    conn.execute(session_t.update().where(session_t.c.token_hash == token_hash)
                 .values(last_seen_at=last_seen_at, expires_at=expires_at))


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(session_t.delete().where(session_t.c.token_hash == token_hash))


def delete_sessions_of(conn: Connection, username: str) -> int:
    return conn.execute(session_t.delete().where(session_t.c.username == username)).rowcount


# ----------------------------------------------------------------------------- login throttle


def throttle_for_update(conn: Connection, key: str) -> Any | None:
    """The throttle row of `key`, locked until the end of the transaction (PostgreSQL)."""
    return conn.execute(sa.select(throttle_t).where(throttle_t.c.username == key).with_for_update()).first()


def reset_failures(conn: Connection, key: str) -> None:
    conn.execute(throttle_t.update().where(throttle_t.c.username == key).values(failures=0, locked_until=None))


def clear_throttle(conn: Connection, key: str) -> None:
    conn.execute(throttle_t.delete().where(throttle_t.c.username == key))


def lock(conn: Connection, key: str, until: datetime) -> None:
    conn.execute(throttle_t.update().where(throttle_t.c.username == key).values(locked_until=until))


def count_failure(conn: Connection, key: str, now: datetime) -> int:
    """Add one failure for `key` atomically; returns the new count."""
    t = throttle_t
    bump = t.update().where(t.c.username == key).values(failures=t.c.failures + 1, last_failure_at=now) \
        .returning(t.c.failures)
    count = conn.execute(bump).scalar()
    if count is not None:
        return count
    try:
        with conn.begin_nested():
            conn.execute(t.insert(), {"username": key, "failures": 1, "last_failure_at": now})
        return 1
    except sa.exc.IntegrityError:  # a concurrent first failure inserted it
        return conn.execute(bump).scalar_one()
