"""What one request made with a session cookie (or a cached Basic credential) reads: the session, its user and
their comuni in one statement, the same Principal as the user lookup gives; the session's last-seen time
written at most once a minute; idle and absolute expiry; a user disabled behind the services' back gets nothing."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from services.access import principal_for
from services.basic_auth import BasicAuthenticator
from services.sessions import (
    ABSOLUTE_TIMEOUT,
    IDLE_TIMEOUT,
    TOUCH_EVERY,
    _hash,
    load_session,
    open_session,
    session_principal,
)
from store import sessions as session_store
from store.tables import AppUser

from .conftest import ALL_USERS, NOW, PASSWORD


def last_seen(engine, token: str):
    with engine.connect() as conn:
        row = session_store.session(conn, _hash(token))
    return None if row is None else row.last_seen_at


def test_every_user_gets_from_a_session_and_from_a_cached_basic_credential_the_principal_of_the_user_lookup(
        web_engine):
    basic = BasicAuthenticator()
    for username, *_ in ALL_USERS:
        expected = principal_for(web_engine, username)
        session = open_session(web_engine, username, NOW)
        _, from_session = session_principal(web_engine, session.token, NOW)
        basic.verify(web_engine, username, PASSWORD, address="127.0.0.1", now=NOW)
        from_basic = basic.cached(web_engine, username, PASSWORD, address="127.0.0.1", now=NOW)
        for got in (from_session, from_basic):
            assert got == expected and got.full_name == expected.full_name, username
    assert principal_for(web_engine, "as.rossi").comuni  # the comparison covers a sub-ambito's comuni


def test_a_session_in_use_is_written_at_most_once_a_minute_and_its_idle_expiry_moves_with_it(web_engine):
    session = open_session(web_engine, "as.rossi", NOW)
    opened = last_seen(web_engine, session.token)
    assert session_principal(web_engine, session.token, NOW + TOUCH_EVERY - timedelta(seconds=1)) is not None
    assert last_seen(web_engine, session.token) == opened
    later = NOW + TOUCH_EVERY
    found, _ = session_principal(web_engine, session.token, later)
    assert last_seen(web_engine, session.token) != opened
    assert found.expires_at == (later + IDLE_TIMEOUT).astimezone(found.expires_at.tzinfo)


def test_a_session_used_every_hour_still_ends_twelve_hours_after_the_login(web_engine):
    session = open_session(web_engine, "as.rossi", NOW)
    for hour in range(1, 12):
        assert session_principal(web_engine, session.token, NOW + timedelta(hours=hour)) is not None, hour
    assert session_principal(web_engine, session.token, NOW + ABSOLUTE_TIMEOUT) is None
    assert last_seen(web_engine, session.token) is None  # the ended session's row is gone


def test_a_session_left_idle_for_two_hours_ends_even_if_used_just_before(web_engine):
    session = open_session(web_engine, "as.rossi", NOW)
    assert session_principal(web_engine, session.token, NOW + timedelta(minutes=30)) is not None
    assert session_principal(web_engine, session.token, NOW + timedelta(minutes=30) + IDLE_TIMEOUT) is None


def test_a_user_disabled_behind_the_services_back_gets_nothing_from_a_session_still_on_file(web_engine):
    session = open_session(web_engine, "as.rossi", NOW)
    user_t = AppUser.__table__
    with web_engine.begin() as conn:
        conn.execute(sa.update(user_t).where(user_t.c.username == "as.rossi").values(active=False))
    assert load_session(web_engine, session.token, NOW) is not None
    assert session_principal(web_engine, session.token, NOW) is None
