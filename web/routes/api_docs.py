"""/api/docs: Swagger UI over /api/openapi.json, from the npm registry's swagger-ui-dist (`legami assets` copies
it to web/static/vendor) with its start-up script as a static file, so it loads under the strict CSP
(script-src 'self'): FastAPI's own page takes Swagger UI from a CDN with an inline script, which the CSP blocks."""
from __future__ import annotations

from fastapi import APIRouter, Request

from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
async def api_docs(request: Request):
    return render(request, "api/documentazione.html", {"openapi_url": request.app.openapi_url})
