"""Setting a database up: migrations, the district as data, policy versions, the system user."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from config.district import District, load_district
from config.policy_files import load_policies
from domain.policy import Policy
from store import reference, users
from store.audit import ensure_heads
from store.db import migrate
from store.uow import writing

SYSTEM_USER = "sistema"


def init_database(url: str, engine: Engine, *, district_path: Path | None = None,
                  policies_path: Path | None = None) -> District:
    migrate(url)
    district = load_district(district_path)
    with writing(engine) as conn:
        load_district_rows(conn, district)
        for policy in load_policies(policies_path):
            load_policy(conn, policy)
        ensure_user(conn, SYSTEM_USER, "Legami (automatismi)", "noreply@example.org", "system")
        ensure_heads(conn)
    return district


def load_district_rows(conn: Connection, district: District) -> None:
    """Upsert the district: the Ufficio di Piano corrects a file and loads it again."""
    reference.save_district(conn, district)


def load_policy(conn: Connection, policy: Policy) -> bool:
    """Add a policy version; an existing version is never rewritten (cases keep their rules)."""
    return reference.add_policy_version(conn, policy)


def ensure_user(conn: Connection, username: str, full_name: str, email: str, role: str,
                sub_ambito: str | None = None, provider_codice: str | None = None) -> None:
    users.upsert_user(conn, username, full_name, email, role, sub_ambito, provider_codice)
