"""Setting a database up: migrations, the district as data, policy versions, the system user."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from config.district import District, load_district
from config.policy_files import load_policies
from domain.policy import Policy
from store.audit import ensure_heads
from store.db import migrate
from store.tables import AppUser, Comune, PolicyVersion, Provider, SubAmbito
from store.tables import District as DistrictRow

SYSTEM_USER = "sistema"


def init_database(url: str, engine: Engine, *, district_path: Path | None = None,
                  policies_path: Path | None = None) -> District:
    migrate(url)
    district = load_district(district_path)
    with engine.begin() as conn:
        load_district_rows(conn, district)
        for policy in load_policies(policies_path):
            load_policy(conn, policy)
        ensure_user(conn, SYSTEM_USER, "Legami (automatismi)", "noreply@example.org", "system")
        ensure_heads(conn)
    return district


def load_district_rows(conn: Connection, district: District) -> None:
    """Upsert the district: the Ufficio di Piano corrects a file and loads it again."""
    _upsert(conn, DistrictRow.__table__, "code", [{
        "code": district.code, "name": district.name, "lead_istat": district.lead_istat,
        "managing_company": district.managing_company,
        "managing_company_email": district.managing_company_email,
        "planning_office_email": district.planning_office_email,
        "sub_ambiti_provisional": district.sub_ambiti_provisional,
        "provisional_note": district.provisional_note,
    }])
    _upsert(conn, SubAmbito.__table__, "nome",
            [{"nome": s.nome, "coordinatore_email": s.coordinatore_email} for s in district.sub_ambiti])
    _upsert(conn, Comune.__table__, "istat", [{
        "istat": c.istat, "belfiore": c.belfiore, "nome": c.nome, "popolazione": c.popolazione,
        "sub_ambito": c.sub_ambito, "patrono": c.patrono,
        "patrono_mmdd": f"{c.patrono_mmdd[0]:02d}-{c.patrono_mmdd[1]:02d}" if c.patrono_mmdd else None,
    } for c in district.comuni])
    _upsert(conn, Provider.__table__, "codice", [{
        "codice": p.codice, "nome": p.nome, "partita_iva": p.partita_iva, "email": p.email, "comuni": list(p.comuni),
    } for p in district.providers])


def load_policy(conn: Connection, policy: Policy) -> bool:
    """Add a policy version; an existing version is never rewritten (cases keep their rules)."""
    table = PolicyVersion.__table__
    exists = conn.execute(sa.select(table.c.version).where(table.c.version == policy.version)).first()
    if exists:
        return False
    conn.execute(table.insert(), {
        "version": policy.version, "valid_from": policy.valid_from, "description": policy.description,
        "body": dict(policy.values), "loaded_at": datetime.now(timezone.utc),
    })
    return True


def ensure_user(conn: Connection, username: str, full_name: str, email: str, role: str,
                sub_ambito: str | None = None, provider_codice: str | None = None) -> None:
    _upsert(conn, AppUser.__table__, "username", [{
        "username": username, "full_name": full_name, "email": email, "role": role,
        "sub_ambito": sub_ambito, "provider_codice": provider_codice, "active": True,
    }])


def _upsert(conn: Connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    for row in rows:
        updated = conn.execute(table.update().where(table.c[key] == row[key]).values(**row)).rowcount
        if not updated:
            conn.execute(table.insert(), row)
