"""Server-side web sessions: opened at login, checked on every request, ended at logout.

The browser holds a random token (256 bits) in an HttpOnly cookie; the table keeps its SHA-256 only, so a
copy of the database does not log anyone in. Each session has its own CSRF synchronizer token. Expiry is
sliding (idle timeout) with an absolute cap, and a session dies with the user's credentials: a password change
or a disabled account ends every session of that user at once (`end_sessions_of`, called by services/auth.py in
the same transaction), and `session_principal` refuses a disabled user on every request anyway: it reads the
session, the active user and their comuni in one statement, with no per-process cache to go stale.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal
from services.access import acting_principal
from store import sessions as store
from store.users import ActingUser
from store.uow import Bind, writing

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen at most once a minute per session


@dataclass(frozen=True)
class WebSession:
    token: str
    username: str
    csrf_token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def open_session(engine: Engine, username: str, now: datetime) -> WebSession:
    """A new session for `username` (after a successful login)."""
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + IDLE_TIMEOUT
    with writing(engine) as conn:
        store.insert_session(conn, {
            "token_hash": _hash(token), "username": username, "csrf_token": csrf,
            "created_at": now, "last_seen_at": now, "expires_at": expires,
        })
    return WebSession(token, username, csrf, expires)


def load_session(engine: Engine, token: str | None, now: datetime) -> WebSession | None:
    """The live session for `token`, its idle expiry pushed forward; None if unknown, expired or ended."""
    found = _live_session(engine, token, now)
    return found[0] if found else None


def session_principal(engine: Engine, token: str | None, now: datetime) -> tuple[WebSession, Principal] | None:
    """What a request made with the session cookie needs: the live session and its user as a Principal (None if
    the session is unknown, expired or ended, or the user disabled). One statement reads the session, the
    user and their comuni together (plus a write at most once a minute: `TOUCH_EVERY`); nothing is cached in
    the process, so a logout, a password change or a disabled account made by any process (the CLI included)
    takes effect on the very next request."""
    found = _live_session(engine, token, now)
    if found is None or found[1] is None:
        return None
    try:
        return found[0], acting_principal(found[1])
    except AccessDenied:
        return None


def _live_session(engine: Engine, token: str | None, now: datetime) -> tuple[WebSession, ActingUser | None] | None:
    if not token or len(token) > 200:
        return None
    now = _utc(now)
    key = _hash(token)
    with writing(engine) as conn:
        found = store.session_and_user(conn, key)
        if found is None:
            return None
        row, user = found
        created, last_seen, expires = _utc(row.created_at), _utc(row.last_seen_at), _utc(row.expires_at)
        if expires <= now or now - created >= ABSOLUTE_TIMEOUT:
            store.delete_session(conn, key)
            return None
        if now - last_seen >= TOUCH_EVERY:
            expires = min(now + IDLE_TIMEOUT, created + ABSOLUTE_TIMEOUT)
            store.touch_session(conn, key, now, expires)
    return WebSession(token, row.username, row.csrf_token, expires), user


def end_session(engine: Engine, token: str | None) -> None:
    """Logout: the token stops working at once, whatever the browser keeps."""
    if not token:
        return
    with writing(engine) as conn:
        store.delete_session(conn, _hash(token))


def end_sessions_of(bind: Bind, username: str) -> int:
    """End every session of a user (password change, account disabled); on a Connection, inside the caller's
    transaction, so the change and the logout commit together."""
    with writing(bind) as conn:
        return store.delete_sessions_of(conn, username)


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf_token.encode(), str(presented).encode())
