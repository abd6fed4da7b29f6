"""The user's own page: who they are, their scope."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from web.deps import CurrentUser, current_user
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/profilo")
async def profile(request: Request, user: CurrentUser = Depends(current_user)):
    return render(request, "profilo.html", {"titolo": "Profilo"})
