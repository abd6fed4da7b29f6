"""The personal calendar subscription link: /calendario/{username}/{token}.ics, readable without a session.

Calendar programs (Outlook, Thunderbird) cannot log in, so the link itself is the credential: the token is
HMAC-SHA256(secret_key, "ics:" + username) in hex, its first 32 characters. It is compared in constant time;
a wrong token answers exactly like an unknown user (404), so the link reveals nothing about who exists.
Changing the secret key revokes every link. The feed holds only that user's own deadlines and the
obligations of their role (services/calendar_feed.py).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date
from urllib.parse import quote

from sqlalchemy.engine import Engine

from domain.errors import NotFound
from services.calendar_feed import calendar_for

TOKEN_LENGTH = 32
NOT_FOUND = "calendario inesistente"


def calendar_token(secret_key: str, username: str) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), f"ics:{username}".encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def token_matches(secret_key: str, username: str, token: str) -> bool:
    expected = calendar_token(secret_key, username).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", errors="replace"))


def calendar_path(secret_key: str, username: str) -> str:
    return f"/calendario/{quote(username, safe='')}/{calendar_token(secret_key, username)}.ics"


def calendar_url(base_url: str, secret_key: str, username: str) -> str:
    return base_url.rstrip("/") + calendar_path(secret_key, username)


def feed(engine: Engine, *, secret_key: str, username: str, token: str, today: date, base_url: str) -> bytes:
    """The user's .ics, or NotFound when the token is not theirs (or the user is unknown or disabled)."""
    if not token_matches(secret_key, username, token):
        raise NotFound(NOT_FOUND)
    try:
        return calendar_for(engine, username, today=today, base_url=base_url.rstrip("/"))
    except NotFound:
        raise NotFound(NOT_FOUND) from None
