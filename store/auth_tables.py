"""Tables for authentication and the health-data access audit (revision 0005_auth).

Kept apart from store/tables.py so that `app_user` keeps its shape: the credential is a row of its own
(`user_credential`, one per user), the failed-login counters are keyed by the *typed* username (so an
unknown name is throttled exactly like a real one and the lockout reveals nothing), external identities
(SPID/CIE/OIDC subjects) link to a user, and every read of health data leaves an append-only row.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import JSONType, UTCDateTime


class UserCredential(SQLModel, table=True):
    """The local password of a user (argon2id hash, never the password) and the administrator flag."""

    __tablename__ = "user_credential"
    user_id: int = Field(primary_key=True, foreign_key="app_user.id")
    password_hash: str | None = Field(default=None, max_length=255)
    is_admin: bool = False
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Consecutive failed logins per typed username (existing or not) and the lock they caused."""

    __tablename__ = "login_throttle"
    username: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserIdentity(SQLModel, table=True):
    """An external identity (SPID/CIE fiscal number, OIDC subject) that logs in as a user."""

    __tablename__ = "user_identity"
    __table_args__ = (sa.UniqueConstraint("method", "subject", name="uq_user_identity_subject"),)
    id: int | None = Field(default=None, primary_key=True)
    method: str = Field(max_length=20)
    subject: str = Field(max_length=200)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    linked_at: datetime = Field(sa_type=UTCDateTime)


class HealthAccessLog(SQLModel, table=True):
    """Who read which health fields of which case, when: append-only (database triggers refuse changes)."""

    __tablename__ = "health_access_log"
    __table_args__ = (sa.Index("ix_health_access_log_user_at", "username", "read_at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    username: str = Field(max_length=80)
    role: str = Field(max_length=40)
    read_at: datetime = Field(sa_type=UTCDateTime)
    fields: list[str] = Field(default_factory=list, sa_type=JSONType)
    context: str = Field(default="case_detail", max_length=60)
    hash: str | None = Field(default=None, max_length=64)  # domain.audit.row_hash over this row and the previous


class AuditHead(SQLModel, table=True):
    """The head of a log-wide hash chain (the health-read log): its length and last hash."""

    __tablename__ = "audit_head"
    chain: str = Field(primary_key=True, max_length=60)
    length: int
    hash: str = Field(max_length=64)


user_credential_t = UserCredential.__table__
login_throttle_t = LoginThrottle.__table__
user_identity_t = UserIdentity.__table__
health_access_log_t = HealthAccessLog.__table__
audit_head_t = AuditHead.__table__


class WebSession(SQLModel, table=True):
    """A logged-in browser: the cookie carries a random token, the database keeps only its SHA-256.

    Server-side, so that logging out (or an administrator disabling the user) ends the session at once;
    `csrf_token` is the synchronizer token every form and htmx request of the session must echo.
    """

    __tablename__ = "web_session"
    __table_args__ = (sa.Index("ix_web_session_expires_at", "expires_at"),)
    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=80, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


web_session_t = WebSession.__table__
