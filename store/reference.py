"""Reference data: the district, its sub-ambiti and comuni (and the comune → sub-ambito map), the providers and
the policy versions. One reader each; every service asks here.

Functions take a `Connection` or an `Engine` (`store.uow.reading`): a page asks with the engine, a unit of work
with its connection.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from store.sql_in import among
from store.tables import AppUser, Comune, Distretto, EnteGestore, PolicyVersion, Provider, SubAmbito
from store.tables import District as DistrictRow
from store.uow import Bind, reading

comune_t = Comune.__table__
sub_ambito_t = SubAmbito.__table__
provider_t = Provider.__table__
district_t = DistrictRow.__table__
policy_t = PolicyVersion.__table__
distretto_t = Distretto.__table__
ente_t = EnteGestore.__table__


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


def comune_keys(bind: Bind, by: str) -> dict[str, str]:
    """comune istat → its name, or (by "distretto" / "ente_gestore") its distretto or managing body's code: the
    key a tally breakdown puts a comune's cases under."""
    column = {"distretto": comune_t.c.distretto, "ente_gestore": comune_t.c.ente_gestore}.get(by, comune_t.c.nome)
    with reading(bind) as conn:
        return {istat: value for istat, value in conn.execute(sa.select(comune_t.c.istat, column)) if value}


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


def sub_ambiti(bind: Bind, ambito_code: str | None = None) -> list[str]:
    """The sub-ambiti's names (of one Ambito, when given), sorted."""
    q = sa.select(sub_ambito_t.c.nome).order_by(sub_ambito_t.c.nome)
    if ambito_code is not None:
        q = q.where(sub_ambito_t.c.ambito_code == ambito_code)
    with reading(bind) as conn:
        return list(conn.execute(q).scalars())


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


def providers_serving(bind: Bind, comune_istat: str) -> list[tuple[str, str]]:
    """(codice, nome) by name of the providers serving `comune_istat`. PostgreSQL answers it (`comuni @> [istat]`):
    a case page's provider select read and decoded every provider's comuni, ~1,300 in a district of 100,000 cases."""
    t = provider_t.c
    q = sa.select(t.codice, t.nome, t.comuni).order_by(t.nome)
    with reading(bind) as conn:
        if conn.dialect.name == "postgresql":
            q = q.with_only_columns(t.codice, t.nome).where(sa.type_coerce(t.comuni, JSONB).contains([comune_istat]))
            return [tuple(r) for r in conn.execute(q).all()]  # fetched at once, not row by row
        return [(r.codice, r.nome) for r in conn.execute(q) if comune_istat in (r.comuni or ())]


def provider_names(bind: Bind, codes: Iterable[str | None] | None = None) -> dict[str, str]:
    """{codice: nome} of the accredited providers (`codes`: of those only; a page names one or two of ~1,300)."""
    q = sa.select(provider_t.c.codice, provider_t.c.nome)
    if codes is not None:
        wanted = sorted({c for c in codes if c})
        if not wanted:
            return {}
        q = q.where(among(provider_t.c.codice, wanted))
    with reading(bind) as conn:
        return {r.codice: r.nome for r in conn.execute(q)}


def has_provider(bind: Bind, codice: str | None) -> bool:
    with reading(bind) as conn:
        return conn.execute(sa.select(provider_t.c.codice).where(provider_t.c.codice == codice)).first() is not None


def district(bind: Bind, code: str | None = None) -> Any | None:
    """An Ambito's row (name, offices' addresses, whether the sub-ambiti are provisional): `code`'s, or the
    default Ambito's; None before init."""
    q = sa.select(district_t).order_by(district_t.c.is_default.desc(), district_t.c.code)
    if code is not None:
        q = q.where(district_t.c.code == code)
    with reading(bind) as conn:
        return conn.execute(q).first()


def save_district(conn: Connection, district: Any, *, default: bool = False, source_dir: str | None = None) -> None:
    """Upsert an Ambito (a `config.district.District`): the Ufficio di Piano corrects a file and loads it
    again. `default`: it becomes the instance's default Ambito (the one holding what has no comune). A name or
    code another Ambito already uses (sub-ambito, ente gestore, provider, comune) is refused, nothing written."""
    _refuse_taken(conn, district)
    if default:
        conn.execute(district_t.update().where(district_t.c.code != district.code).values(is_default=False))
    elif conn.execute(sa.select(district_t.c.code).where(district_t.c.is_default)).first() is None:
        default = True  # the first Ambito loaded is the default
    code = district.code
    _upsert(conn, district_t, "code", [{
        "code": district.code, "name": district.name, "lead_istat": district.lead_istat,
        "managing_company": district.managing_company,
        "managing_company_email": district.managing_company_email,
        "planning_office_email": district.planning_office_email,
        "sub_ambiti_provisional": district.sub_ambiti_provisional,
        "provisional_note": district.provisional_note,
        "is_default": default, "distretti_provisional": district.distretti_provisional,
        "enti_gestori_provisional": district.enti_gestori_provisional, "notes": district.notes,
        "popolazione_mancante": any(c.popolazione is None for c in district.comuni), "source_dir": source_dir,
    }])
    known = set(conn.execute(sa.select(distretto_t.c.nome).where(distretto_t.c.ambito_code == code)).scalars())
    new = [{"ambito_code": code, "nome": d.nome} for d in district.all_distretti() if d.nome not in known]
    if new:
        conn.execute(distretto_t.insert(), new)
    _upsert(conn, ente_t, "codice", [{"codice": e.codice, "ambito_code": code, "nome": e.nome, "tipo": e.tipo,
                                      "email": e.email} for e in district.all_enti_gestori()])
    _upsert(conn, sub_ambito_t, "nome", [{"nome": s.nome, "coordinatore_email": s.coordinatore_email,
                                          "ambito_code": code} for s in district.sub_ambiti])
    _upsert(conn, comune_t, "istat", [{
        "istat": c.istat, "belfiore": c.belfiore, "nome": c.nome, "popolazione": c.popolazione or 0,
        "sub_ambito": c.sub_ambito, "patrono": c.patrono,
        "patrono_mmdd": f"{c.patrono_mmdd[0]:02d}-{c.patrono_mmdd[1]:02d}" if c.patrono_mmdd else None,
        "ambito_code": code, "distretto": district.distretto_of(c.istat),
        "ente_gestore": district.ente_gestore_of(c.istat).codice,
    } for c in district.comuni])
    _upsert(conn, provider_t, "codice", [{
        "codice": p.codice, "nome": p.nome, "partita_iva": p.partita_iva, "email": p.email, "comuni": list(p.comuni),
        "ambito_code": code,
    } for p in district.providers])


def _refuse_taken(conn: Connection, district: Any) -> None:
    checks = ((sub_ambito_t, "nome", [s.nome for s in district.sub_ambiti], "il sub-ambito"),
              (ente_t, "codice", [e.codice for e in district.all_enti_gestori()], "l'ente gestore"),
              (provider_t, "codice", [p.codice for p in district.providers], "l'ente accreditato"),
              (comune_t, "istat", [c.istat for c in district.comuni], "il comune"))
    for table, key, values, label in checks:
        row = conn.execute(sa.select(table.c[key], table.c.ambito_code).where(
            table.c[key].in_(values), table.c.ambito_code.is_not(None),
            table.c.ambito_code != district.code)).first()
        if row is not None:
            raise ValueError(f"{label} «{row[0]}» appartiene già all'Ambito «{row[1]}»: "
                             f"l'Ambito «{district.code}» non è stato caricato")


# ----------------------------------------------------------------------------- the Ambiti


@dataclass(frozen=True)
class EnteRow:
    codice: str
    ambito_code: str
    nome: str
    tipo: str
    email: str


def ambiti(bind: Bind) -> list[Any]:
    """Every Ambito's row, the default first."""
    with reading(bind) as conn:
        return conn.execute(sa.select(district_t).order_by(district_t.c.is_default.desc(), district_t.c.code)).all()


def ambito_counts(bind: Bind) -> dict[str, dict[str, int]]:
    """code → number of comuni, sub-ambiti, distretti and enti gestori."""
    found: dict[str, dict[str, int]] = {}
    with reading(bind) as conn:
        for label, table in (("comuni", comune_t), ("sub_ambiti", sub_ambito_t), ("distretti", distretto_t),
                             ("enti_gestori", ente_t)):
            for code, n in conn.execute(sa.select(table.c.ambito_code, sa.func.count()).group_by(table.c.ambito_code)):
                found.setdefault(code, {})[label] = n
    return found


def distretti(bind: Bind, ambito_code: str) -> list[str]:
    with reading(bind) as conn:
        return list(conn.execute(sa.select(distretto_t.c.nome).where(distretto_t.c.ambito_code == ambito_code)
                                 .order_by(distretto_t.c.nome)).scalars())


def enti_gestori(bind: Bind, ambito_code: str | None = None) -> list[EnteRow]:
    q = sa.select(ente_t).order_by(ente_t.c.codice)
    if ambito_code is not None:
        q = q.where(ente_t.c.ambito_code == ambito_code)
    with reading(bind) as conn:
        return [EnteRow(r.codice, r.ambito_code, r.nome, r.tipo, r.email) for r in conn.execute(q)]


def comuni_of_ambito(bind: Bind, ambito_code: str) -> list[Any]:
    """An Ambito's comuni by name: istat, nome, sub-ambito, distretto, ente gestore, popolazione."""
    t = comune_t.c
    with reading(bind) as conn:
        return conn.execute(sa.select(t.istat, t.nome, t.sub_ambito, t.distretto, t.ente_gestore, t.popolazione)
                            .where(t.ambito_code == ambito_code).order_by(t.nome)).all()


def ambito_of_comuni(bind: Bind) -> dict[str, str]:
    """comune istat → its Ambito's code."""
    with reading(bind) as conn:
        return dict(conn.execute(sa.select(comune_t.c.istat, comune_t.c.ambito_code)).all())


def ente_gestore_of_comuni(bind: Bind) -> dict[str, EnteRow]:
    """comune istat → the body managing its services."""
    enti = {e.codice: e for e in enti_gestori(bind)}
    with reading(bind) as conn:
        return {istat: enti[codice] for istat, codice in
                conn.execute(sa.select(comune_t.c.istat, comune_t.c.ente_gestore)) if codice in enti}


def ambito_of(bind: Bind, *, sub_ambito: str | None = None, provider: str | None = None) -> str | None:
    """The Ambito of a sub-ambito (or else of a provider); None for neither."""
    with reading(bind) as conn:
        if sub_ambito:
            return conn.execute(sa.select(sub_ambito_t.c.ambito_code).where(sub_ambito_t.c.nome == sub_ambito)).scalar()
        if provider:
            return conn.execute(sa.select(provider_t.c.ambito_code).where(provider_t.c.codice == provider)).scalar()
    return None


def case_ambito_sql(comune_istat: str | None, opener: str | None = None) -> sa.ColumnElement[str]:
    """The Ambito a case placed in `comune_istat` belongs to, as an SQL expression (scalar subqueries, so the
    INSERT or UPDATE of case_file sets it in the same statement): the comune's Ambito; for a record placed in no
    comune (an FNA call, an adhesion), the Ambito of the user who opens it (`opener`); else the default Ambito."""
    user_t = AppUser.__table__
    default = sa.select(district_t.c.code).where(district_t.c.is_default).order_by(district_t.c.code).limit(1)
    choices = []
    if comune_istat is not None:
        choices.append(sa.select(comune_t.c.ambito_code).where(comune_t.c.istat == comune_istat).scalar_subquery())
    if opener is not None:
        choices.append(sa.select(user_t.c.ambito_code).where(user_t.c.username == opener).scalar_subquery())
    return sa.func.coalesce(*choices, default.scalar_subquery()) if choices else default.scalar_subquery()


def ambito_comuni(bind: Bind, ambito_code: str | None) -> tuple[str | None, frozenset[str], bool]:
    """(code, its comuni's istat codes, whether it is the default) of `ambito_code`, or of the default Ambito
    when None. Before init: (None, empty, True)."""
    with reading(bind) as conn:
        q = sa.select(district_t.c.code, district_t.c.is_default)
        q = q.where(district_t.c.code == ambito_code) if ambito_code else q.where(district_t.c.is_default)
        row = conn.execute(q).first()
        if row is None:
            return None, frozenset(), True
        comuni_ = frozenset(conn.execute(sa.select(comune_t.c.istat).where(comune_t.c.ambito_code == row.code))
                            .scalars())
    return row.code, comuni_, bool(row.is_default)


# ----------------------------------------------------------------------------- policy versions


def policy_versions(bind: Bind, *, known: Iterable[str] = ()) -> list[Any]:
    """Every stored policy version (version, valid_from, body, description) but the `known` ones: a version is
    never rewritten (`add_policy_version`), so a reader that holds some asks only for those added since."""
    t = policy_t.c
    q = sa.select(t.version, t.valid_from, t.body, t.description)
    if known := sorted(known):
        q = q.where(t.version.not_in(known))
    with reading(bind) as conn:
        return conn.execute(q).all()


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
