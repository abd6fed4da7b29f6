"""Web fixtures: the district world of tests/district_world.py, every user with a password, and a
TestClient per user logged in through the real login form.

`web_db_url` runs on SQLite by default; tests that must also run on PostgreSQL use `db_url` (both).
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from services.auth import create_user, use_password_hasher
from services.cases import CaseService
from store.auth_tables import login_throttle_t, user_credential_t
from store.db import make_engine
from store.tables import AppUser
from tests.conftest import FAST_HASHER
from tests.district_world import EXTRA_USERS, build_world
from tests.integration.conftest import NOW, USERS
from web.app import create_app
from web.assets import ensure_assets

PASSWORD = "cavallo-batteria-graffetta"
ALL_USERS = USERS + EXTRA_USERS + [("udp.admin", "planning_office", None, None)]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def front_end_assets():
    ensure_assets()


@pytest.fixture(autouse=True)
def _fast_hashes(fast_hashes):
    """Every test here hashes with tests/conftest.py's cheap argon2id."""


class OneHashPerPassword(PasswordHasher):
    """FAST_HASHER's argon2id, but one hash (one salt) per password for the whole session: the fixture below
    gives its 12 users the same password, so each test hashed it 12 times over. Installed only while the
    fixture creates its users; logins still verify (and tests/integration/test_auth.py checks real salts)."""

    def __init__(self) -> None:
        super().__init__(time_cost=FAST_HASHER.time_cost, memory_cost=FAST_HASHER.memory_cost,
                         parallelism=FAST_HASHER.parallelism)
        self._hashes: dict[str, str] = {}

    def hash(self, password, *, salt=None) -> str:
        if salt is not None:
            return super().hash(password, salt=salt)
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]


SHARED_HASHER = OneHashPerPassword()


@pytest.fixture
def web_engine(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(login_throttle_t.delete())
    previous = use_password_hasher(SHARED_HASHER)
    try:
        for username, role, area, provider in ALL_USERS:
            create_user(engine, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                        sub_ambito=area, provider_codice=provider, password=PASSWORD,
                        is_admin=username == "udp.admin", now=NOW)
    finally:
        use_password_hasher(previous)
    yield engine
    engine.dispose()


@pytest.fixture
def world(web_engine):
    return build_world(CaseService(web_engine, clock=lambda: NOW))


@pytest.fixture
def app(web_engine):
    return create_app(engine=web_engine, clock=lambda: NOW)


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/accesso")
    token = CSRF_RE.search(page.text).group(1)
    response = client.post("/accesso", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str = "/profilo") -> str:
    """The session's CSRF token, as a page carries it."""
    return CSRF_RE.search(client.get(path).text).group(1)


@pytest.fixture
def client_for(app):
    """client_for("as.rossi") → a TestClient logged in as that user (its own cookie jar)."""
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        clients.append(client)
        return login(client, username)

    yield make
    for c in clients:
        c.close()


def user_is_admin(engine, username: str) -> bool:
    t, u = user_credential_t, AppUser.__table__
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(t.c.is_admin).join(u, u.c.id == t.c.user_id)
                                 .where(u.c.username == username)).scalar())
