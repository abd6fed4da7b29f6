"""HTTP Basic on the API: a throttle by client address and username, and a short cache of verified credentials.

Why not the web login's lockout: that counts failures per *typed username* and refuses the right password for
15 minutes, so anyone who knows a username could lock its owner out of the web login with six Basic calls.
The API's policy instead (`ApiThrottlePolicy`):

- failures are counted per (client address, username): after `max_failures` within `window_minutes`, *that
  address* gets 429 for that username for `wait_minutes`, the right password included; other addresses, and
  the web login, are not affected;
- failures are also counted per client address over every username: after `max_failures_per_address`, that
  address gets 429 for every username (one address spraying many usernames);
- API failures never touch the web login's counter, and the web login's lockout does not apply to Basic.

The counters live in the process (a bounded dict): each web worker process counts on its own, and a restart
forgets them. Behind a reverse proxy the client address is the one uvicorn takes from `X-Forwarded-For` for a
trusted proxy (`legami serve` runs uvicorn with `proxy_headers=True`; trust is `FORWARDED_ALLOW_IPS`, default
127.0.0.1), otherwise every client would share the proxy's address.

The cache: argon2 costs ~150 ms of CPU per verification, and an integration sends its credentials with every
call. A successful verification is remembered for `ttl` seconds under an HMAC-SHA256 of username and password
keyed with a random per-process salt (the password itself is never kept). A hit still reads the user's stored
hash and is honoured only if that hash is the one that was verified and the user is still active, so a password
change or a disabled account takes effect on the next request, whichever process made the change. Failures are
never cached.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal
from domain.errors import DomainError
from services.access import acting_principal, principal_for
from services.auth import INVALID_CREDENTIALS, AuthenticationFailed, verify_password
from store import users
from store.uow import reading

TOO_MANY = "troppi tentativi di accesso non riusciti da questo indirizzo: riprovare tra {minutes} minuti"


class TooManyAttempts(DomainError):
    """This client address must wait (HTTP 429); str() is the Italian message."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApiThrottlePolicy:
    max_failures: int = 10  # per (address, username) within the window
    max_failures_per_address: int = 50  # per address, over every username
    window_minutes: int = 15
    wait_minutes: int = 15
    max_tracked: int = 20_000  # counters kept in memory at most (oldest dropped first)


DEFAULT_API_THROTTLE = ApiThrottlePolicy()


@dataclass
class _Counter:
    failures: int
    first_at: datetime
    locked_until: datetime | None = None


class ApiThrottle:
    """Failure counters per (address, username) and per address; thread-safe (used from the thread pool)."""

    def __init__(self, policy: ApiThrottlePolicy = DEFAULT_API_THROTTLE):
        self.policy = policy
        self._counters: OrderedDict[tuple[str, str | None], _Counter] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, address: str, username: str) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
        return (address, username.strip().lower()[:200]), (address, None)

    def check(self, address: str, username: str, now: datetime) -> None:
        """Raise TooManyAttempts if this address must wait for this username (or for every username)."""
        with self._lock:
            for key in self._keys(address, username):
                counter = self._counters.get(key)
                if counter is None or counter.locked_until is None:
                    continue
                if counter.locked_until > now:
                    wait = max(1, math.ceil((counter.locked_until - now).total_seconds()))
                    raise TooManyAttempts(TOO_MANY.format(minutes=math.ceil(wait / 60)), wait)
                del self._counters[key]  # the wait is over: count again from zero

    def failed(self, address: str, username: str, now: datetime) -> None:
        p = self.policy
        with self._lock:
            for key, limit in zip(self._keys(address, username), (p.max_failures, p.max_failures_per_address)):
                counter = self._counters.get(key)
                if counter is None or now - counter.first_at > timedelta(minutes=p.window_minutes):
                    counter = _Counter(0, now)
                counter.failures += 1
                if counter.failures >= limit:
                    counter.locked_until = now + timedelta(minutes=p.wait_minutes)
                self._counters[key] = counter
                self._counters.move_to_end(key)
            while len(self._counters) > p.max_tracked:
                self._counters.popitem(last=False)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._counters.pop(self._keys(address, username)[0], None)


@dataclass
class _Verified:
    password_hash: str
    until: datetime


class VerifiedCredentials:
    """Successful Basic verifications for `ttl` seconds, keyed by HMAC(per-process salt, username, password)."""

    def __init__(self, ttl: timedelta = timedelta(seconds=60), max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._salt = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, username: str, password: str) -> bytes:
        material = username.encode("utf-8") + b"\x00" + password.encode("utf-8")
        return hmac.new(self._salt, material, hashlib.sha256).digest()

    def hash_for(self, key: bytes, now: datetime) -> str | None:
        """The stored hash this credential was verified against, if still fresh."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.until <= now:
                del self._entries[key]
                return None
            return entry.password_hash

    def remember(self, key: bytes, password_hash: str, now: datetime) -> None:
        with self._lock:
            self._entries[key] = _Verified(password_hash, now + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)


class BasicAuthenticator:
    """One per web application: the throttle and the cache of verified credentials."""

    def __init__(self, policy: ApiThrottlePolicy = DEFAULT_API_THROTTLE, ttl: timedelta = timedelta(seconds=60)):
        self.throttle = ApiThrottle(policy)
        self.verified = VerifiedCredentials(ttl)

    def cached(self, engine: Engine, username: str, password: str, *, address: str,
               now: datetime) -> Principal | None:
        """The fast path (no argon2): TooManyAttempts if this address must wait; the Principal if these
        credentials were verified less than `ttl` ago against the hash still stored for an active user;
        None when they must be verified (`verify`). Blocking (database reads): call it from a worker thread."""
        self.throttle.check(address, username, now)
        key = self.verified.key(username, password)
        cached = self.verified.hash_for(key, now)
        if cached is None:
            return None
        with reading(engine) as conn:
            acting = users.acting_login(conn, username)  # active, non-system users only; one statement
        if acting is not None and acting.password_hash is not None \
                and hmac.compare_digest(cached, acting.password_hash):
            try:
                return acting_principal(acting)
            except AccessDenied:
                pass
        self.verified.forget(key)  # the password changed (or the user left) since: verify afresh
        return None

    def verify(self, engine: Engine, username: str, password: str, *, address: str, now: datetime) -> Principal:
        """The full check (one argon2 verification, ~150 ms of CPU): Principal, or AuthenticationFailed after
        counting the failure. Blocking: call it from the password-check threads, never on the event loop."""
        self.throttle.check(address, username, now)
        with reading(engine) as conn:
            row = users.password_of(conn, username)  # active, non-system users only
        stored = row[2] if row is not None else None
        # one argon2 verification whatever happens (unknown user, no password set): timing says nothing.
        # (An outdated hash is rehashed at the next web login, not here: no write on the API's hot path.)
        if verify_password(stored, password) and row is not None and password:
            try:
                principal = principal_for(engine, row[1])
            except AccessDenied:
                raise AuthenticationFailed(INVALID_CREDENTIALS) from None
            self.throttle.succeeded(address, username)
            self.verified.remember(self.verified.key(username, password), stored, now)
            return principal
        self.throttle.failed(address, username, now)
        raise AuthenticationFailed(INVALID_CREDENTIALS)

    def authenticate(self, engine: Engine, username: str, password: str, *, address: str,
                     now: datetime) -> Principal:
        """`cached`, else `verify` (blocking; for callers without an event loop)."""
        principal = self.cached(engine, username, password, address=address, now=now)
        if principal is not None:
            return principal
        return self.verify(engine, username, password, address=address, now=now)
