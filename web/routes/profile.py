"""The user's own page (who they are, their scope, their calendar link) and the calendar feed itself."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.calendar_link import calendar_url, feed
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/profilo")
async def profile(request: Request, user: CurrentUser = Depends(current_user)):
    settings = services(request).settings
    url = calendar_url(settings.base_url, settings.secret_key, user.username)
    return render(request, "profilo.html", {"titolo": "Profilo", "calendario_url": url})


@router.get("/calendario/{username}/{token}.ics")
async def calendar_feed(request: Request, username: str, token: str):
    """No session: calendar programs subscribe with the link; the token in it is the credential."""
    svc = services(request)
    body = feed(svc.engine, secret_key=svc.settings.secret_key, username=username, token=token,
                today=svc.today(), base_url=svc.settings.base_url)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="legami.ics"'})
