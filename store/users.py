"""The users: one loader (`users`/`user`) for who acts (Principal), who is reminded (Directory), who is offered
in a form (assignee lists) and who gets a demo login; and the account writes behind services/auth.py.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.auth_tables import user_credential_t, user_identity_t
from store.sql_in import among
from store.tables import AppUser, Comune, District
from store.uow import Bind, reading

user_t = AppUser.__table__
comune_t = Comune.__table__
district_t = District.__table__
SYSTEM_ROLE = "system"

_ORDER = {
    "username": (user_t.c.username,),
    "full_name": (user_t.c.full_name, user_t.c.username),
    "sub_ambito": (user_t.c.sub_ambito.is_(None), user_t.c.sub_ambito, user_t.c.username),
}


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    full_name: str
    email: str
    role: str  # a `Role` value; an unknown one is the caller's to refuse
    sub_ambito: str | None
    provider_codice: str | None
    active: bool
    is_admin: bool
    ambito_code: str | None = None  # None: the default Ambito
    ente_gestore: str | None = None  # an administrative user's managing body (None: untied)


def users(bind: Bind, *, username: str | None = None, role: str | None = None, sub_ambito: str | None = None,
          active: bool | None = True, exclude: str | None = None, order: str = "username") -> list[UserRecord]:
    """The users matching every filter given (by default the active ones), in `order`: "username", "full_name"
    or "sub_ambito" (no sub-ambito last, then username)."""
    q = (sa.select(user_t, user_credential_t.c.is_admin)
         .select_from(user_t.outerjoin(user_credential_t, user_credential_t.c.user_id == user_t.c.id))
         .order_by(*_ORDER[order]))
    if username is not None:
        q = q.where(user_t.c.username == username)
    if role is not None:
        q = q.where(user_t.c.role == role)
    if sub_ambito is not None:
        q = q.where(user_t.c.sub_ambito == sub_ambito)
    if active is not None:
        q = q.where(user_t.c.active.is_(active))
    if exclude is not None:
        q = q.where(user_t.c.username != exclude)
    with reading(bind) as conn:
        return [UserRecord(r.id, r.username, r.full_name, r.email, r.role, r.sub_ambito, r.provider_codice,
                           bool(r.active), bool(r.is_admin), r.ambito_code, r.ente_gestore) for r in conn.execute(q)]


def user(bind: Bind, username: str, *, active: bool | None = True) -> UserRecord | None:
    """One user by username (by default only if active)."""
    found = users(bind, username=username, active=active)
    return found[0] if found else None


def full_names(bind: Bind, usernames: Iterable[str]) -> dict[str, str]:
    """{username: full name} of the named users, active or not (a past step's actor may have left)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    with reading(bind) as conn:
        rows = conn.execute(sa.select(user_t.c.username, user_t.c.full_name)
                            .where(among(user_t.c.username, wanted))).all()  # one array: Oggi names ~240
    return {r.username: r.full_name or r.username for r in rows}


# ----------------------------------------------------------------------------- who is acting (every request)


@dataclass(frozen=True)
class ActingUser:
    """An active user with what a Principal needs (the comuni of their sub-ambito) and the stored password hash,
    read in one statement: the per-request authentication (session cookie or cached Basic credential) reads
    this and nothing else."""
    record: UserRecord
    comuni: frozenset[str]
    password_hash: str | None
    ambito: str | None = None  # the code of the user's Ambito (None before any Ambito is loaded)
    ambito_comuni: frozenset[str] = frozenset()
    ambito_default: bool = True


def acting_columns() -> list[Any]:
    """The columns `acting_from_rows` reads, labelled so they do not clash with a joined table's."""
    u, c = user_t.c, user_credential_t.c
    return [u.id.label("u_id"), u.username.label("u_username"), u.full_name.label("u_full_name"),
            u.email.label("u_email"), u.role.label("u_role"), u.sub_ambito.label("u_sub_ambito"),
            u.provider_codice.label("u_provider_codice"), c.is_admin.label("u_is_admin"),
            c.password_hash.label("u_password_hash"), comune_t.c.istat.label("u_comune"),
            comune_t.c.sub_ambito.label("u_comune_area"), u.ambito_code.label("u_ambito_code"),
            _default_ambito().label("u_default_ambito")]


def _default_ambito() -> Any:
    return sa.select(district_t.c.code).where(district_t.c.is_default).limit(1).scalar_subquery()


def _user_ambito() -> Any:
    return sa.func.coalesce(user_t.c.ambito_code, _default_ambito())


def acting_join(left: Any, on: Any) -> Any:
    """`left` outer-joined to the active user matching `on`, their credential and their Ambito's comuni (one
    row per comune, each with its sub-ambito; no active user or no Ambito: one row, those columns NULL)."""
    return (left.outerjoin(user_t, sa.and_(on, user_t.c.active.is_(True)))
            .outerjoin(user_credential_t, user_credential_t.c.user_id == user_t.c.id)
            .outerjoin(comune_t, comune_t.c.ambito_code == _user_ambito()))


def acting_from_rows(rows: Sequence[Any]) -> ActingUser | None:
    """The ActingUser of rows selected with `acting_columns()` (None: no active user)."""
    if not rows or rows[0].u_id is None:
        return None
    r = rows[0]
    record = UserRecord(r.u_id, r.u_username, r.u_full_name, r.u_email, r.u_role, r.u_sub_ambito,
                        r.u_provider_codice, True, bool(r.u_is_admin), r.u_ambito_code)
    mine = frozenset(x.u_comune for x in rows if x.u_comune is not None and r.u_sub_ambito is not None
                     and x.u_comune_area == r.u_sub_ambito)
    ambito = r.u_ambito_code or r.u_default_ambito
    return ActingUser(record, mine, r.u_password_hash, ambito,
                      frozenset(x.u_comune for x in rows if x.u_comune is not None),
                      ambito is None or ambito == r.u_default_ambito)


def acting_login(conn: Connection, username: str) -> ActingUser | None:
    """The active user who may log in as `username` (a credential row; never the system user), in one
    statement; the same user `password_of` answers for."""
    return acting_from_rows(conn.execute(_ACTING_LOGIN, {"username": username}).all())


def _acting_login() -> sa.Select:
    u = user_t.c
    return (sa.select(*acting_columns())
            .select_from(user_t.join(user_credential_t, user_credential_t.c.user_id == u.id)
                         .outerjoin(comune_t, comune_t.c.ambito_code == _user_ambito()))
            .where(u.username == sa.bindparam("username"), u.active.is_(True), u.role != SYSTEM_ROLE))


_ACTING_LOGIN = _acting_login()  # built once: every request with HTTP Basic reads it


# ----------------------------------------------------------------------------- writes


def upsert_user(conn: Connection, username: str, full_name: str, email: str, role: str,
                sub_ambito: str | None = None, provider_codice: str | None = None, *,
                ambito_code: str | None = None, ente_gestore: str | None = None) -> None:
    """Create or update an active user (the system user, the demo staff, tests); no credential. `ambito_code`
    None: the default Ambito; `ente_gestore` is written only when given."""
    row = {"username": username, "full_name": full_name, "email": email, "role": role,
           "sub_ambito": sub_ambito, "provider_codice": provider_codice, "active": True, "ambito_code": ambito_code}
    if ente_gestore is not None:
        row["ente_gestore"] = ente_gestore
    if not conn.execute(user_t.update().where(user_t.c.username == username).values(**row)).rowcount:
        conn.execute(user_t.insert(), row)


def insert_user(conn: Connection, *, username: str, full_name: str, email: str, role: str,
                sub_ambito: str | None, provider_codice: str | None, is_admin: bool,
                password_hash: str | None, password_changed_at: datetime | None,
                ambito_code: str | None = None, ente_gestore: str | None = None) -> int:
    """A new active user with its credential row; returns its id."""
    user_id = conn.execute(user_t.insert().returning(user_t.c.id), {
        "username": username, "full_name": full_name, "email": email, "role": role,
        "sub_ambito": sub_ambito, "provider_codice": provider_codice, "active": True, "ambito_code": ambito_code,
        "ente_gestore": ente_gestore,
    }).scalar_one()
    conn.execute(user_credential_t.insert(), {
        "user_id": user_id, "is_admin": is_admin, "password_hash": password_hash,
        "password_changed_at": password_changed_at,
    })
    return user_id


def set_password_hash(conn: Connection, user_id: int, password_hash: str, changed_at: datetime | None = None) -> None:
    """Store a user's new password hash (`changed_at` None: a rehash of the same password)."""
    values: dict = {"password_hash": password_hash}
    if changed_at is not None:
        values["password_changed_at"] = changed_at
    t = user_credential_t
    if not conn.execute(t.update().where(t.c.user_id == user_id).values(**values)).rowcount:
        conn.execute(t.insert(), {"user_id": user_id, "is_admin": False, "password_changed_at": changed_at,
                                  "password_hash": password_hash})


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    """Enable or disable an account (a disabled user keeps their history but cannot log in)."""
    conn.execute(user_t.update().where(user_t.c.id == user_id).values(active=active))


def password_of(conn: Connection, username: str) -> tuple[int, str, str | None] | None:
    """(id, username, password hash) of an active user who may log in (never the system user)."""
    row = conn.execute(
        sa.select(user_t.c.id, user_t.c.username, user_credential_t.c.password_hash)
        .select_from(user_t.join(user_credential_t, user_credential_t.c.user_id == user_t.c.id))
        .where(user_t.c.username == username, user_t.c.active.is_(True), user_t.c.role != SYSTEM_ROLE)
    ).first()
    return None if row is None else (row.id, row.username, row.password_hash)


def link_identity(conn: Connection, user_id: int, method: str, subject: str, linked_at: datetime) -> None:
    conn.execute(user_identity_t.insert(), {"method": method, "subject": subject, "user_id": user_id,
                                            "linked_at": linked_at})


def user_of_identity(conn: Connection, method: str, subject: str) -> str | None:
    """The active (non-system) user an external identity is linked to."""
    return conn.execute(
        sa.select(user_t.c.username)
        .select_from(user_identity_t.join(user_t, user_t.c.id == user_identity_t.c.user_id))
        .where(user_identity_t.c.method == method, user_identity_t.c.subject == subject,
               user_t.c.active.is_(True), user_t.c.role != SYSTEM_ROLE)
    ).scalar()
