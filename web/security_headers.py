"""The security headers every answer carries, as a pure ASGI middleware.

Headers the application already set are kept; `Cache-Control: no-store` goes on everything but /static/.
A `BaseHTTPMiddleware` (`@app.middleware("http")`) did the same at about 0.25 ms of CPU per request (a task
and a stream per call); this only rewrites the response's start message.
"""
from __future__ import annotations

from typing import Any

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                "script-src 'self'; font-src 'self' data:; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'self'"),
}
_ALWAYS = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = _ALWAYS if scope["path"].startswith("/static/") else [*_ALWAYS, _NO_STORE]

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in wanted if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
