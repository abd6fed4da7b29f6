"""Cruscotto: the indicators against the range di valutazione, per sub-ambito (access checked in the service)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from domain.errors import InvalidData
from domain.validation import FieldError
from services.dashboard import dashboard_for
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


def _year(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidData([FieldError("anno", "Anno", f"anno non valido: «{text}»")])
    return int(text)


@router.get("/cruscotto")
async def cruscotto(request: Request, anno: str | None = None, sub_ambito: str | None = None, per: str | None = None,
                    user: CurrentUser = Depends(current_user)):
    svc = services(request)
    board = dashboard_for(svc.engine, user.principal, today=svc.today(), year=_year(anno),
                          sub_ambito=sub_ambito or None, per=(per or "")[:40])
    return render(request, "cruscotto.html", {"titolo": "Cruscotto", "c": board})
