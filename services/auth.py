"""Authentication: users in the database, argon2id password hashes, lockout, the first administrator.

`IdentityProvider` is the one adapter point for how a person proves who they are. The local password
provider is the first implementation; SPID/CIE (through a gateway) or an OIDC provider plug in as another
implementation returning the username of a verified identity (see `ExternalIdentityProvider`). Whatever
the provider, `login` ends the same way: the active user becomes a `Principal` (services/access.py) and
from there on scope and redaction are the same.

Messages never say whether a username exists: an unknown user, a user without a password, a disabled
user and a wrong password all get `INVALID_CREDENTIALS`; failures are counted per *typed* username, so an
unknown name is locked out exactly like a real one.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from domain.access import AccessDenied, Principal
from domain.errors import DomainError
from domain.validation import InvalidValue, validate_email_address
from domain.workflow import Role
from services.access import principal_for
from services.sessions import end_sessions_of
from store import reference, users
from store import sessions as logins
from store.uow import writing

INVALID_CREDENTIALS = "nome utente o password non corretti"
LOCKED = ("troppi tentativi di accesso non riusciti: accesso sospeso per {minutes} minuti, "
          "riprovare più tardi o rivolgersi all'amministratore")
UNKNOWN_IDENTITY = "identità non riconosciuta: nessun utente abilitato è associato a questa identità"
MIN_PASSWORD_LENGTH = 12
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,78}[a-z0-9]$")

DEFAULT_HASHER = PasswordHasher()  # argon2id, the library's defaults: RFC 9106 low-memory (m=64 MiB, t=3, p=4)
_hasher = DEFAULT_HASHER
_dummy_hash: str | None = None


def use_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Install another argon2 hasher (stronger parameters; cheaper ones in tests); returns the previous one.
    Hashes made with other parameters still verify and are rehashed at the next successful login."""
    global _hasher, _dummy_hash
    previous, _hasher, _dummy_hash = _hasher, hasher, None
    return previous


class AuthenticationFailed(DomainError):
    """Login refused; str() is the Italian message (the same whether or not the user exists)."""


class AccountError(DomainError):
    """A user or password could not be created or changed (the message says why)."""


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_minutes: int = 15


DEFAULT_LOCKOUT = LockoutPolicy()


# ----------------------------------------------------------------------------- hashing


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; always spends one argon2 verification, even without a hash."""
    global _dummy_hash
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        password_hash, password = _dummy_hash, password + "\x00"
        try:
            _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"la password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri")
    if username and username.lower() in password.lower():
        raise AccountError("la password non può contenere il nome utente")
    if len(set(password)) < 5:
        raise AccountError("la password è troppo ripetitiva")


# ----------------------------------------------------------------------------- accounts


def _require_admin(by: Principal | None) -> None:
    """`by` is None for the trusted local command line; otherwise it must be an administrator."""
    if by is not None and not by.is_admin:
        raise AccessDenied("solo un amministratore gestisce le utenze")


def _loginable_user_id(conn: Connection, username: str) -> int:
    """The id of a user who may be given a way to log in (never the automation's system user)."""
    row = users.user(conn, username, active=None)
    if row is None:
        raise AccountError(f"l'utente «{username}» non esiste")
    if row.role == Role.SYSTEM.value:
        raise AccountError("l'utenza di sistema non accede con credenziali")
    return row.id


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("l'istante deve indicare il fuso orario")
    return value.astimezone(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def _now(now: datetime | None) -> datetime:
    return _utc(now) if now is not None else datetime.now(timezone.utc)


def create_user(engine: Engine, username: str, full_name: str, email: str, role: Role | str, *,
                sub_ambito: str | None = None, provider_codice: str | None = None,
                password: str | None = None, is_admin: bool = False, by: Principal | None = None,
                now: datetime | None = None, ambito: str | None = None, ente_gestore: str | None = None) -> int:
    """A new active user (with a local password if given); returns its id. Every user belongs to one Ambito:
    `ambito`, else their sub-ambito's (or their provider's, or their managing body's), else the default one. An
    administrative user (csc_admin) may be tied to one managing body (`ente_gestore`) of their Ambito."""
    _require_admin(by)
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"ruolo «{role}» sconosciuto") from None
    if role is Role.SYSTEM:
        raise AccountError("l'utenza di sistema non si crea a mano")
    if not USERNAME_RE.match(username):
        raise AccountError("nome utente non valido: 3-80 caratteri tra minuscole, cifre, punto, trattino")
    try:
        email = validate_email_address(email)
    except InvalidValue as exc:
        raise AccountError(f"e-mail: {exc}") from None
    if password is not None:
        check_password_strength(password, username)
    with writing(engine) as conn:
        if users.user(conn, username, active=None) is not None:
            raise AccountError(f"l'utente «{username}» esiste già")
        if role in (Role.SOCIAL_WORKER, Role.SUBAREA_COORDINATOR):
            if not reference.has_sub_ambito(conn, sub_ambito):
                raise AccountError(f"il ruolo richiede un sub-ambito esistente (indicato: «{sub_ambito}»)")
        elif sub_ambito is not None:
            raise AccountError("il sub-ambito si indica solo per assistenti sociali e coordinatori")
        if role is Role.PROVIDER:
            if not reference.has_provider(conn, provider_codice):
                raise AccountError(f"il ruolo richiede un ente esistente (indicato: «{provider_codice}»)")
        elif provider_codice is not None:
            raise AccountError("l'ente si indica solo per le utenze degli enti accreditati")
        if role is Role.REGIONAL_READER and ambito is not None:
            raise AccountError("il lettore regionale non appartiene a nessun Ambito: non indicare --ambito")
        ambito = _ambito_of_new_user(conn, ambito, sub_ambito, provider_codice)
        ambito = _ente_of_new_user(conn, role, ente_gestore, ambito)
        user_id = users.insert_user(
            conn, username=username, full_name=full_name, email=email, role=role.value, sub_ambito=sub_ambito,
            provider_codice=provider_codice, is_admin=is_admin,
            password_hash=hash_password(password) if password is not None else None,
            password_changed_at=_now(now) if password is not None else None, ambito_code=ambito,
            ente_gestore=ente_gestore)
    return user_id


def _ambito_of_new_user(conn, ambito: str | None, sub_ambito: str | None, provider: str | None) -> str | None:
    """The Ambito a new user belongs to (None: the default one); AccountError if it is unknown or its
    sub-ambito or provider is another Ambito's."""
    placed = reference.ambito_of(conn, sub_ambito=sub_ambito, provider=provider)
    if ambito is None:
        return placed
    if reference.district(conn, ambito) is None:
        raise AccountError(f"Ambito «{ambito}» inesistente (legami ambito list)")
    if placed is not None and placed != ambito:
        raise AccountError(f"il sub-ambito o l'ente indicato appartiene all'Ambito «{placed}», non a «{ambito}»")
    return ambito


def _ente_of_new_user(conn, role: Role, ente: str | None, ambito: str | None) -> str | None:
    """The new user's Ambito, checked against their managing body (`ente`): only an administrative user is tied
    to one, it must exist and be of their Ambito (None: the default one); without an Ambito, the body's."""
    if ente is None:
        return ambito
    if role is not Role.CSC_ADMIN:
        raise AccountError("l'ente gestore si indica solo per il personale amministrativo (csc_admin)")
    found = next((e for e in reference.enti_gestori(conn) if e.codice == ente), None)
    if found is None:
        raise AccountError(f"ente gestore «{ente}» inesistente (legami ambito show CODICE)")
    if ambito is not None and found.ambito_code != ambito:
        raise AccountError(f"l'ente gestore «{ente}» appartiene all'Ambito «{found.ambito_code}», non a «{ambito}»")
    return found.ambito_code


def create_admin(engine: Engine, username: str, email: str, password: str, *, full_name: str | None = None,
                 role: Role | str = Role.EVALUATOR, now: datetime | None = None) -> int:
    """The first administrator (run from the command line). It manages accounts; its data role defaults to
    `evaluator` (aggregates only), so administering users opens no case file."""
    return create_user(engine, username, full_name or "Amministratore", email, role, password=password,
                       is_admin=True, now=now)


def set_password(engine: Engine, username: str, password: str, *, by: Principal | None = None,
                 now: datetime | None = None) -> None:
    """Set (or reset) a user's local password; a user may change their own. Every session of the user ends in
    the same transaction (a stolen cookie dies with the old password), and a cached HTTP Basic verification
    of the old password no longer matches the stored hash (services/basic_auth.py)."""
    if by is not None and by.username != username:
        _require_admin(by)
    check_password_strength(password, username)
    password_hash = hash_password(password)  # ~150 ms of CPU: before the transaction, not inside it
    with writing(engine) as conn:
        user_id = _loginable_user_id(conn, username)
        users.set_password_hash(conn, user_id, password_hash, _now(now))
        logins.clear_throttle(conn, _key(username))
        end_sessions_of(conn, username)


def disable_user(engine: Engine, username: str, *, by: Principal | None = None) -> None:
    """Disable an account: it can no longer log in, its sessions end at once, its Basic credentials stop
    working on the next request (`principal_for` refuses a disabled user). Its history stays."""
    _require_admin(by)
    with writing(engine) as conn:
        users.set_active(conn, _loginable_user_id(conn, username), False)
        end_sessions_of(conn, username)


def enable_user(engine: Engine, username: str, *, by: Principal | None = None) -> None:
    """Enable a disabled account again (it logs in with the password it had)."""
    _require_admin(by)
    with writing(engine) as conn:
        users.set_active(conn, _loginable_user_id(conn, username), True)


def unlock(engine: Engine, username: str, *, by: Principal | None = None) -> None:
    """Lift a lockout before its time (an administrator, after checking who was trying)."""
    _require_admin(by)
    with writing(engine) as conn:
        logins.clear_throttle(conn, _key(username))


def link_identity(engine: Engine, username: str, method: str, subject: str, *, by: Principal | None = None,
                  now: datetime | None = None) -> None:
    """Let an external identity (e.g. method "spid", subject the fiscal number) log in as `username`."""
    _require_admin(by)
    with writing(engine) as conn:
        user_id = _loginable_user_id(conn, username)
        users.link_identity(conn, user_id, method, normalise_subject(method, subject), _now(now))


def normalise_subject(method: str, subject: str) -> str:
    """SPID/CIE subjects are fiscal numbers: upper case, without SPID's "TINIT-" prefix."""
    subject = subject.strip()
    if method in ("spid", "cie"):
        subject = subject.upper().removeprefix("TINIT-")
    return subject


# ----------------------------------------------------------------------------- identity providers


@runtime_checkable
class IdentityProvider(Protocol):
    """How a person proves who they are. Returns the username, or raises AuthenticationFailed.

    `credentials` is whatever the method needs: {"username", "password"} for the local provider; the
    verified assertion's attributes for SPID/CIE/OIDC. The provider runs inside the login's transaction
    (`conn`), so what it records (failure counters) commits even when it refuses.
    """

    method: str

    def identify(self, conn: Connection, credentials: Mapping[str, Any], now: datetime) -> str: ...


class LocalPasswordProvider:
    """Username and password checked against the argon2id hash, with lockout after repeated failures."""

    method = "password"

    def __init__(self, lockout: LockoutPolicy = DEFAULT_LOCKOUT):
        self.lockout = lockout

    def identify(self, conn: Connection, credentials: Mapping[str, Any], now: datetime) -> str:
        username = str(credentials.get("username") or "").strip()
        password = str(credentials.get("password") or "")
        key = _key(username)
        throttle = logins.throttle_for_update(conn, key)
        locked_until = _aware(throttle.locked_until) if throttle else None
        if locked_until is not None and locked_until > now:
            raise _Refused(LOCKED.format(minutes=self.lockout.lock_minutes))
        if locked_until is not None:  # the lock has run out: start counting again
            logins.reset_failures(conn, key)
        row = users.password_of(conn, username)
        user_id, name, password_hash = row if row is not None else (None, None, None)
        # one argon2 verification whatever happens (unknown user, no password set): timing says nothing
        matched = verify_password(password_hash, password)
        if row is not None and password and matched:
            logins.clear_throttle(conn, key)
            if _hasher.check_needs_rehash(password_hash):
                users.set_password_hash(conn, user_id, hash_password(password))
            return name
        failures = logins.count_failure(conn, key, now)
        if failures >= self.lockout.max_failures:
            logins.lock(conn, key, now + timedelta(minutes=self.lockout.lock_minutes))
            raise _Refused(LOCKED.format(minutes=self.lockout.lock_minutes))
        raise _Refused(INVALID_CREDENTIALS)


class ExternalIdentityProvider:
    """SPID, CIE or OIDC: the upstream (SPID/CIE gateway, OIDC callback) has *already verified* the
    assertion; this maps its subject (fiscal number, `sub`) to a linked, active user. The caller must pass
    only verified attributes: this class checks no signature."""

    def __init__(self, method: str, subject_claim: str = "subject"):
        self.method = method
        self.subject_claim = subject_claim

    def identify(self, conn: Connection, credentials: Mapping[str, Any], now: datetime) -> str:
        subject = normalise_subject(self.method, str(credentials.get(self.subject_claim) or ""))
        username = users.user_of_identity(conn, self.method, subject)
        if not subject or username is None:
            raise _Refused(UNKNOWN_IDENTITY)
        return username


class _Refused(Exception):
    """Inside the login transaction: refuse, but commit what was counted."""


def _key(username: str) -> str:
    return username.strip().lower()[:200]


def login(engine: Engine, provider: IdentityProvider, credentials: Mapping[str, Any],
          now: datetime | None = None) -> Principal:
    """Identify through `provider`, then load the user as a Principal; AuthenticationFailed if refused."""
    when = _now(now)
    refused: str | None = None
    with writing(engine) as conn:
        try:
            username = provider.identify(conn, credentials, when)
        except _Refused as exc:
            refused = str(exc)
    if refused is not None:
        raise AuthenticationFailed(refused)
    try:
        return principal_for(engine, username)
    except AccessDenied:  # disabled between the check and now, or an unknown role
        raise AuthenticationFailed(INVALID_CREDENTIALS) from None


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None, *,
                 lockout: LockoutPolicy = DEFAULT_LOCKOUT) -> Principal:
    """Username and password → Principal; after `lockout.max_failures` consecutive failures the username is
    refused for `lockout.lock_minutes` minutes, right password or not."""
    return login(engine, LocalPasswordProvider(lockout), {"username": username, "password": password}, now)
