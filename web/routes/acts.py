"""Generated acts on the case page: «Genera atto» (plain POST → 303 back to the case; the act is then downloaded
as any document of the case). Scope, the act's rule and the checks are the service layer's (services/acts.py)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from domain.errors import InvalidData
from services.acts import generate_act
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.routes.cases import _case_context, _done
from web.templating import render

router = APIRouter(include_in_schema=False)
ActName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{2,40}$")]


@router.post("/casi/{case_id}/atti/{atto}")
async def generate(request: Request, case_id: IdPath, atto: ActName, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    try:
        doc = generate_act(svc.engine, user.principal, case_id, atto, now=svc.clock())
    except InvalidData as exc:
        ctx = _case_context(request, user, case_id)
        ctx["errori_pagina"] = [str(e) for e in exc.errors]
        return render(request, "casi/caso.html", ctx, status_code=422)
    return _done(request, f"/casi/{case_id}?atto={doc['id']}#atti")
