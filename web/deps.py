"""What every route stands on: the application's services, the logged-in user, CSRF.

Pages and the REST API get the user the same way: a page request without a live session is sent to the
login page; an API request without one gets 401. The API also takes HTTP Basic credentials (integrations
without a browser); those requests carry no cookie and need no CSRF token, are throttled by client address and
username, and a successful verification is cached for a minute (services/basic_auth.py). Every unsafe request made
with the session cookie must echo the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`), and an `Origin` header, when present, must be this site.

Authorisation itself is not here: routes call the service layer (services/access.py), which refuses
out-of-scope reads and actions whatever the entrypoint.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from config.settings import Settings
from domain.access import Principal
from domain.italian import ROME
from domain.workflow import ROLE_LABELS
from services.access import ScopedCaseService
from services.auth import AuthenticationFailed
from services.basic_auth import BasicAuthenticator, TooManyAttempts
from services.cases import CaseService
from services.sessions import WebSession, csrf_matches, session_principal

T = TypeVar("T")
SESSION_COOKIE = "legami_sessione"
LOGIN_CSRF_COOKIE = "legami_csrf_accesso"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Services:
    """Held on `app.state.services`: one engine, one clock, the case services built on them."""

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime]
    cases: CaseService
    scoped: ScopedCaseService
    basic: BasicAuthenticator = field(default_factory=BasicAuthenticator)  # HTTP Basic throttle and cache

    def now(self) -> datetime:
        return self.clock().astimezone(ROME)

    def today(self) -> date:
        return self.now().date()


@dataclass(frozen=True)
class CurrentUser:
    principal: Principal
    full_name: str
    session: WebSession | None  # None when the API was called with Basic credentials

    @property
    def username(self) -> str:
        return self.principal.username

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.principal.role]

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


class LoginRequired(Exception):
    """No live session: pages redirect to the login page, the API answers 401."""


class CsrfRefused(Exception):
    """An unsafe request without the session's token (or from another origin): 403."""


def services(request: Request) -> Services:
    return request.app.state.services


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        username, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise LoginRequired() from None
    if not sep:
        raise LoginRequired()
    return username, password


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != expected:
            raise CsrfRefused("origine della richiesta non ammessa")
    elif origin == "null":
        raise CsrfRefused("origine della richiesta non ammessa")


# argon2 costs ~150 ms of CPU and 64 MiB each: at most one check per core at a time, in threads of their own, so
# a burst of logins (or of wrong passwords) queues here instead of filling the pool every other request needs.
PASSWORD_THREADS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="legami-password")


async def in_password_threads(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking password check (argon2) off the event loop, in the password-check threads."""
    return await asyncio.get_running_loop().run_in_executor(PASSWORD_THREADS, partial(fn, *args, **kwargs))


def client_address(request: Request) -> str:
    """The client's address as uvicorn reports it (behind a trusted proxy: from X-Forwarded-For)."""
    return request.client.host if request.client else "sconosciuto"


async def current_user(request: Request) -> CurrentUser:
    """The logged-in user (session cookie, or Basic credentials on the API); CSRF checked on unsafe methods.

    Everything blocking (database reads, the argon2 verification) runs in a worker thread, never on the event
    loop: one password check must not hold up every other request."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    svc = services(request)
    if _is_api(request):
        basic = _basic_credentials(request)
        if basic is not None:
            args = (svc.engine, basic[0], basic[1])
            kw = {"address": client_address(request), "now": svc.clock()}
            try:
                principal = await run_in_threadpool(svc.basic.cached, *args, **kw)
                if principal is None:
                    principal = await in_password_threads(svc.basic.verify, *args, **kw)
            except AuthenticationFailed:
                raise LoginRequired() from None
            except TooManyAttempts as exc:
                raise HTTPException(429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
            user = CurrentUser(principal, principal.full_name, None)
            request.state.user = user
            return user
    found = await run_in_threadpool(session_principal, svc.engine, request.cookies.get(SESSION_COOKIE), svc.clock())
    if found is None:
        raise LoginRequired()
    session, principal = found
    if request.method in UNSAFE:
        check_origin(request)
        presented = request.headers.get("x-csrf-token")
        if presented is None and not _is_api(request):
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                presented = (await request.form()).get("csrf_token")
        if not csrf_matches(session, presented if isinstance(presented, str) else None):
            raise CsrfRefused("token CSRF mancante o non valido: ricaricare la pagina e riprovare")
    user = CurrentUser(principal, principal.full_name, session)
    request.state.user = user
    return user


async def optional_user(request: Request) -> CurrentUser | None:
    try:
        return await current_user(request)
    except (LoginRequired, CsrfRefused):
        return None


def form_errors_by_field(errors: list[Any]) -> dict[str, str]:
    """InvalidData.errors → {field path: "message"} for inline errors next to each input."""
    out: dict[str, str] = {}
    for e in errors:
        out.setdefault(getattr(e, "field", ""), getattr(e, "message", str(e)))
    return out
