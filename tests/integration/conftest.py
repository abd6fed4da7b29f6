"""Integration fixtures: users, a case service with a fixed clock. The database fixtures (`db_url`: SQLite
and PostgreSQL) are in tests/conftest.py, shared with the web and browser tests.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from services.cases import CaseService
from services.setup import ensure_user
from store.db import make_engine
from tests.conftest import PG_URL, REQUIRE_PG, ROME, TABLES, _admin  # noqa: F401  (re-exported)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for username, role, area, provider in USERS:
            ensure_user(conn, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                        area, provider)
    yield engine
    engine.dispose()


USERS = [
    ("as.rossi", "social_worker", "Crema", None),
    ("as.verdi", "social_worker", "Pandino", None),
    ("coord.crema", "subarea_coordinator", "Crema", None),
    ("csc.bianchi", "csc_admin", None, None),
    ("udp.neri", "planning_office", None, None),
    ("ente.girasole", "provider", None, "ENTE01"),
]

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)


@pytest.fixture
def service(engine):
    return CaseService(engine, clock=lambda: NOW)


def day(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()
