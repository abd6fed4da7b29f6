"""The FastAPI application: server-rendered pages (Jinja2 + htmx, Bootstrap Italia) and the REST API.

`create_app()` wires settings, one engine and the case services; every route module contributes a
router. Errors from the service layer become Italian pages (or JSON on /api) with the right status:
AccessDenied 403, NotFound 404, InvalidData/GuardRefused 422, ConflictError 409.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import quote

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import Settings, get_settings
from domain.access import AccessDenied
from domain.errors import DomainError
from domain.validation import error_message
from services.access import ScopedCaseService
from services.cases import CaseService, now_rome
from web.assets import VENDOR
from web.deps import CsrfRefused, LoginRequired, Services
from web.body_limit import BodyLimit
from web.security_headers import SecurityHeaders
from web.db_retry import RetryReadsOnLostConnection
from web.errors import errors_payload, http_error, status_of
from web.templating import render

STATIC = VENDOR.parent

def create_app(*, settings: Settings | None = None, engine: Engine | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    settings = settings or get_settings()
    if engine is None:
        from store.db import cached_engine

        engine = cached_engine(settings.database_url)
    clock = clock or now_rome
    cases = CaseService(engine, clock=clock)
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Every blocking step of a request (session read, sync route) runs in anyio's shared thread pool. Its default
        # of 40 threads lets 40 requests fight over the GIL at once: under 50 clients the transition p95 was 300-360 ms
        # with 40 threads and 180-220 ms with 8 on the same 2 cores (bench/api, RESULTS.md), a fair FIFO queue instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Legami API",
        version="1.0",
        description="Casi, transizioni, scadenze e indicatori dei servizi sociali dell'Ambito Distrettuale "
                    "Cremasco. Autenticazione: HTTP Basic (integrazioni) o cookie di sessione con "
                    "intestazione X-CSRF-Token.",
        docs_url=None,  # /api/docs is web/routes/api_docs.py: Swagger UI served by Legami under the CSP
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = Services(settings, engine, clock, cases, ScopedCaseService(cases))
    app.state.secure_cookies = settings.base_url.startswith("https://") or settings.environment == "production"
    STATIC.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    from web.nav import guard_page
    from web.routes import PAGE_ROUTERS, api, api_handover, api_person, documents

    for router in PAGE_ROUTERS:
        app.include_router(router, dependencies=[Depends(guard_page)])
    app.include_router(api.router)
    app.include_router(api_person.router)
    app.include_router(api_handover.router)
    app.include_router(documents.api_router)

    app.add_middleware(RetryReadsOnLostConnection)  # innermost: a read that met a dead pooled connection runs again
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,  # inside the security headers
                       upload_max_bytes=settings.documents_max_bytes + 64 * 1024,  # uploads: the documents' own cap
                       uploads={"/importa": settings.import_max_bytes})
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "autenticazione richiesta"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="Legami", charset="UTF-8"'})
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": "sessione scaduta"}, status_code=401,
                                headers={"HX-Redirect": "/accesso"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/accesso?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused):
        message = str(exc) or "richiesta rifiutata"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=403)
        return render(request, "errore.html", {"titolo": "Richiesta rifiutata", "messaggio": message},
                      status_code=403)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        status = status_of(exc)
        message = exc.reason if isinstance(exc, AccessDenied) else str(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message, "errori": errors_payload(exc)}, status_code=status)
        titles = {403: "Accesso negato", 404: "Non trovato", 409: "Conflitto", 422: "Dati non validi"}
        return render(request, "errore.html", {"titolo": titles.get(status, "Errore"), "messaggio": message,
                                               "errori": errors_payload(exc)}, status_code=status)

    def refused(request: Request, status: int, message: str, errori: list[dict[str, str]] | None = None,
                headers: dict[str, str] | None = None):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message, "errori": errori or []}, status_code=status, headers=headers)
        title, _ = http_error(status)
        return render(request, "errore.html", {"titolo": title, "messaggio": message, "errori": errori or []},
                      status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_refused(request: Request, exc: StarletteHTTPException):
        _, message = http_error(exc.status_code, exc.detail)
        return refused(request, exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError):
        """A page's path that does not name a resource (/casi/abc, an id past the integer range) is a 404;
        other invalid parameters are a 422 naming them, in Italian."""
        errors = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return refused(request, 404, http_error(404)[1])
        errori = [{"campo": ".".join(str(p) for p in e.get("loc", ())[1:]),
                   "etichetta": str(e.get("loc", ("", ""))[-1]), "messaggio": error_message(e)} for e in errors]
        return refused(request, 422, "dati non validi", errori)

    return app
