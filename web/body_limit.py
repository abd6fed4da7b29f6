"""A cap on request bodies (LEGAMI_MAX_BODY_BYTES), as a pure ASGI middleware.

A declared Content-Length over the cap is refused before a byte is read; a body streamed without one is
counted as it arrives, and as soon as it passes the cap whatever the application was about to answer (often
FastAPI's "error parsing the body") is replaced by the 413. Nothing past the cap reaches a route, so nothing
is written. The answer is Italian: the error page on pages, `{"detail", "errori"}` on /api.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.errors import http_error, too_large_message

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class _TooLarge(Exception):
    pass


def refusal(request: Request, max_bytes: int) -> Response:
    message = too_large_message(max_bytes)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message, "errori": [{"campo": "", "etichetta": "Corpo della richiesta",
                                                            "messaggio": message}]}, status_code=413)
    from web.templating import render

    title, _ = http_error(413)
    return render(request, "errore.html", {"titolo": title, "messaggio": message}, status_code=413)


def is_upload(scope: Scope) -> bool:
    """A document upload (web/routes/documents.py): POST to a case's /documenti, page or API."""
    return scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/documenti")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if is_upload(scope) else self.max_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the application's own answer to the cut body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            pass
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive, send, limit: int) -> None:
        response = refusal(Request(scope, receive), limit)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
