"""Login, logout and the home page.

The login form is protected against CSRF by a double-submit token (a cookie and a hidden field that must
match) since there is no session yet; after login the session's own token takes over. Messages never say
whether a username exists; the lockout is services.auth's (HTTP Basic failures on the API never count towards
it: services/basic_auth.py). Password checks run in a worker thread, off the event loop.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from services.auth import AuthenticationFailed, authenticate
from services.sessions import WebSession, end_session, open_session
from web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Services,
    check_origin,
    current_user,
    in_password_threads,
    optional_user,
    services,
)
from web.nav import landing_for
from web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None, landing: str = "") -> str:
    """Only a local path: never redirect to another site after login (`landing`, the user's own first page,
    instead; empty: keep no target)."""
    if not target:
        return landing
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return landing
    return target


def _login_page(request: Request, *, next_url: str = "", username: str = "", errore: str | None = None,
                uscito: bool = False, status_code: int = 200):
    token = secrets.token_urlsafe(32)
    response = render(request, "accesso.html", {"login_csrf": token, "next": next_url, "username": username,
                                                 "errore": errore, "uscito": uscito}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.secure_cookies, path="/accesso")
    return response


@router.get("/")
async def home(user: CurrentUser | None = Depends(optional_user)):
    return RedirectResponse(landing_for(user.principal) if user else "/accesso", status_code=303)


@router.get("/accesso")
async def login_form(request: Request, next: str = "", uscito: int = 0):
    return _login_page(request, next_url=_safe_next(next) if next else "", uscito=bool(uscito))


def _log_in(svc: Services, username: str, password: str) -> tuple[WebSession, str]:
    """Check the password (with the web login's lockout) and open a session; blocking. Also the user's landing page."""
    principal = authenticate(svc.engine, username, password, now=svc.clock())
    return open_session(svc.engine, principal.username, svc.clock()), landing_for(principal)


@router.post("/accesso")
async def login(request: Request, username: str = Form(""), password: str = Form(""),
                csrf_token: str = Form(""), next: str = Form("")):
    check_origin(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, next_url=next, username=username, status_code=403,
                           errore="Il modulo di accesso è scaduto: riprovare.")
    svc = services(request)
    if not username.strip() or not password:
        return _login_page(request, next_url=next, username=username, status_code=422,
                           errore="Indicare nome utente e password.")
    try:  # argon2 (~150 ms of CPU) and the database: in a worker thread, never on the event loop
        session, landing = await in_password_threads(_log_in, svc, username.strip(), password)
    except AuthenticationFailed as exc:
        return _login_page(request, next_url=next, username=username, status_code=401, errore=str(exc))
    response = RedirectResponse(_safe_next(next, landing), status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="lax",
                        secure=request.app.state.secure_cookies, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/accesso")
    return response


@router.post("/esci")
async def logout(request: Request, user: CurrentUser = Depends(current_user)):
    await run_in_threadpool(end_session, services(request).engine, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/accesso?uscito=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
