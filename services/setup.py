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
    """Migrate, load the (default) Ambito, the policy versions and the system user."""
    migrate(url)
    district = load_district(district_path)
    with writing(engine) as conn:
        load_district_rows(conn, district, default=True, source_dir=district_path)
        for policy in load_policies(policies_path):
            load_policy(conn, policy)
        ensure_user(conn, SYSTEM_USER, "Legami (automatismi)", "noreply@example.org", "system")
        ensure_heads(conn)
    return district


def load_district_rows(conn: Connection, district: District, *, default: bool = False,
                       source_dir: Path | str | None = None) -> None:
    """Upsert an Ambito: the Ufficio di Piano corrects a file and loads it again."""
    reference.save_district(conn, district, default=default,
                            source_dir=str(Path(source_dir).resolve()) if source_dir else None)


def load_ambito(engine: Engine, path: Path | str) -> District:
    """Load (or load again) one more Ambito beside those the instance holds: checked whole, then written in one
    transaction; ValueError (in Italian, naming file and row) and nothing written on any problem."""
    district = load_district(path)
    with writing(engine) as conn:
        load_district_rows(conn, district, source_dir=path)
    return district


def load_policy(conn: Connection, policy: Policy) -> bool:
    """Add a policy version; an existing version is never rewritten (cases keep their rules)."""
    return reference.add_policy_version(conn, policy)


def ensure_user(conn: Connection, username: str, full_name: str, email: str, role: str,
                sub_ambito: str | None = None, provider_codice: str | None = None) -> None:
    users.upsert_user(conn, username, full_name, email, role, sub_ambito, provider_codice)
