"""Reference data: the district, its sub-ambiti and comuni (and the comune → sub-ambito map), the providers and
the policy versions. One reader each; every service asks here.

Functions take a `Connection` or an `Engine` (`store.uow.reading`): a page asks with the engine, a unit of work
with its connection.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.tables import Comune, PolicyVersion, Provider, SubAmbito
from store.tables import District as DistrictRow
from store.uow import Bind, reading

comune_t = Comune.__table__
sub_ambito_t = SubAmbito.__table__
provider_t = Provider.__table__
district_t = DistrictRow.__table__
policy_t = PolicyVersion.__table__


@dataclass(frozen=True)
class ComuneRow:
    istat: str
    belfiore: str
    nome: str
    popolazione: int
    sub_ambito: str
    patrono_mmdd: str | None


@dataclass(frozen=True)
class ProviderRow:
    codice: str
    nome: str
    email: str
    comuni: tuple[str, ...]


# ----------------------------------------------------------------------------- comuni and sub-ambiti


def comuni(bind: Bind, *, only: frozenset[str] | set[str] | None = None) -> list[ComuneRow]:
    """The district's comuni by name (only those in `only`, when given)."""
    t = comune_t.c
    q = sa.select(t.istat, t.belfiore, t.nome, t.popolazione, t.sub_ambito, t.patrono_mmdd).order_by(t.nome)
    if only is not None:
        q = q.where(t.istat.in_(sorted(only)))
    with reading(bind) as conn:
        return [ComuneRow(r.istat, r.belfiore, r.nome, r.popolazione, r.sub_ambito, r.patrono_mmdd)
                for r in conn.execute(q)]


def sub_ambito_map(bind: Bind) -> dict[str, str]:
    """comune istat → sub-ambito, for the whole district."""
    with reading(bind) as conn:
        return dict(conn.execute(sa.select(comune_t.c.istat, comune_t.c.sub_ambito)).all())


def comune_names(bind: Bind) -> dict[str, str]:
    """comune istat → name."""
    with reading(bind) as conn:
        return dict(conn.execute(sa.select(comune_t.c.istat, comune_t.c.nome)).all())


def sub_ambito_of(bind: Bind, comune_istat: str | None) -> str | None:
    """The sub-ambito of one comune (None for no comune or an unknown one)."""
    if not comune_istat:
        return None
    with reading(bind) as conn:
        return conn.execute(sa.select(comune_t.c.sub_ambito).where(comune_t.c.istat == comune_istat)).scalar()


def comuni_of(bind: Bind, sub_ambito: str | None) -> frozenset[str]:
    """The istat codes of a sub-ambito's comuni (none for no sub-ambito)."""
    if not sub_ambito:
        return frozenset()
    with reading(bind) as conn:
        return frozenset(conn.execute(sa.select(comune_t.c.istat).where(comune_t.c.sub_ambito == sub_ambito))
                         .scalars())


def sub_ambiti(bind: Bind) -> list[str]:
    """The sub-ambiti's names, sorted."""
    with reading(bind) as conn:
        return list(conn.execute(sa.select(sub_ambito_t.c.nome).order_by(sub_ambito_t.c.nome)).scalars())


def coordinator_emails(bind: Bind) -> dict[str, str]:
    """sub-ambito → the coordination's address (for when no coordinator has a user)."""
    with reading(bind) as conn:
        return dict(conn.execute(sa.select(sub_ambito_t.c.nome, sub_ambito_t.c.coordinatore_email)).all())


def has_sub_ambito(bind: Bind, nome: str | None) -> bool:
    with reading(bind) as conn:
        return conn.execute(sa.select(sub_ambito_t.c.nome).where(sub_ambito_t.c.nome == nome)).first() is not None


# ----------------------------------------------------------------------------- providers and the district


def providers(bind: Bind, *, by_name: bool = False) -> list[ProviderRow]:
    """The accredited providers by codice (or by name), with the comuni they serve."""
    t = provider_t.c
    q = sa.select(t.codice, t.nome, t.email, t.comuni).order_by(t.nome if by_name else t.codice)
    with reading(bind) as conn:
        return [ProviderRow(r.codice, r.nome, r.email, tuple(r.comuni or ())) for r in conn.execute(q)]


def provider_names(bind: Bind) -> dict[str, str]:
    """{codice: nome} of the accredited providers."""
    with reading(bind) as conn:
        return {r.codice: r.nome for r in conn.execute(sa.select(provider_t.c.codice, provider_t.c.nome))}


def has_provider(bind: Bind, codice: str | None) -> bool:
    with reading(bind) as conn:
        return conn.execute(sa.select(provider_t.c.codice).where(provider_t.c.codice == codice)).first() is not None


def district(bind: Bind) -> Any | None:
    """The district's row (name, offices' addresses, whether the sub-ambiti are provisional), None before init."""
    with reading(bind) as conn:
        return conn.execute(sa.select(district_t)).first()


def save_district(conn: Connection, district: Any) -> None:
    """Upsert the district (a `config.district.District`): the Ufficio di Piano corrects a file and loads it
    again."""
    _upsert(conn, district_t, "code", [{
        "code": district.code, "name": district.name, "lead_istat": district.lead_istat,
        "managing_company": district.managing_company,
        "managing_company_email": district.managing_company_email,
        "planning_office_email": district.planning_office_email,
        "sub_ambiti_provisional": district.sub_ambiti_provisional,
        "provisional_note": district.provisional_note,
    }])
    _upsert(conn, sub_ambito_t, "nome",
            [{"nome": s.nome, "coordinatore_email": s.coordinatore_email} for s in district.sub_ambiti])
    _upsert(conn, comune_t, "istat", [{
        "istat": c.istat, "belfiore": c.belfiore, "nome": c.nome, "popolazione": c.popolazione,
        "sub_ambito": c.sub_ambito, "patrono": c.patrono,
        "patrono_mmdd": f"{c.patrono_mmdd[0]:02d}-{c.patrono_mmdd[1]:02d}" if c.patrono_mmdd else None,
    } for c in district.comuni])
    _upsert(conn, provider_t, "codice", [{
        "codice": p.codice, "nome": p.nome, "partita_iva": p.partita_iva, "email": p.email, "comuni": list(p.comuni),
    } for p in district.providers])


# ----------------------------------------------------------------------------- policy versions


def policy_versions(bind: Bind) -> list[Any]:
    """Every stored policy version (version, valid_from, body, description)."""
    t = policy_t.c
    with reading(bind) as conn:
        return conn.execute(sa.select(t.version, t.valid_from, t.body, t.description)).all()


def add_policy_version(conn: Connection, policy: Any) -> bool:
    """Add a policy version (a `domain.policy.Policy`); an existing version is never rewritten."""
    exists = conn.execute(sa.select(policy_t.c.version).where(policy_t.c.version == policy.version)).first()
    if exists:
        return False
    conn.execute(policy_t.insert(), {
        "version": policy.version, "valid_from": policy.valid_from, "description": policy.description,
        "body": dict(policy.values), "loaded_at": datetime.now(timezone.utc),
    })
    return True


def _upsert(conn: Connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    for row in rows:
        updated = conn.execute(table.update().where(table.c[key] == row[key]).values(**row)).rowcount
        if not updated:
            conn.execute(table.insert(), row)



def initialised(engine) -> bool:
    """Whether `legami init` has run on this database (its reference tables exist)."""
    return sa.inspect(engine).has_table("comune")
