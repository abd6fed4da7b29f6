"""The person's page (/persone/{id}, DOMAIN.md §13): every case of theirs the reader may read across measures, a
count of the others and whom to ask, the identity discrepancies to resolve and the merge of a provisional code.
Scope and the rules are the service layer's (services/person.py, domain/access.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from domain.errors import DomainError
from services import person
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.errors import errors_payload, status_of
from web.form_input import FormInput
from web.routes.api_person import _person_id
from web.routes.cases import _done
from web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, user: CurrentUser, person_id: int, *, status: int = 200,
          exc: DomainError | None = None, values: dict[str, str] | None = None):
    svc = services(request)
    found = person.person_page(svc.engine, user.principal, person_id, today=svc.today())
    message = (exc.reason if hasattr(exc, "reason") else str(exc)) if exc is not None else None
    return render(request, "persone/persona.html", {
        "titolo": "Persona", "p": found, "errore": message, "errori": errors_payload(exc) if exc else [],
        "valori": values or {}, "esiti": person.RESOLUTIONS}, status_code=status)


@router.get("/persone/{person_id}")
async def person_page(request: Request, person_id: IdPath, user: CurrentUser = Depends(current_user)):
    return _page(request, user, person_id)


@router.get("/casi/{case_id}/persona")
async def person_of_case(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    return _done(request, f"/persone/{_person_id(services(request), user, case_id)}")


@router.post("/persone/{person_id}/discrepanze/{case_id}")
async def resolve(request: Request, person_id: IdPath, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    try:
        person.resolve_discrepancy(svc.engine, user.principal, case_id=case_id, choice=inp.get("esito") or "",
                                   note=inp.get("nota"), now=svc.clock(), today=svc.today())
    except DomainError as exc:
        return _page(request, user, person_id, status=status_of(exc), exc=exc)
    return _done(request, f"/persone/{person_id}?risolta={case_id}")


@router.post("/persone/{person_id}/unione")
async def merge(request: Request, person_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    values = {k: inp.get(k) or "" for k in ("provvisorio", "definitivo", "motivo")}
    try:
        done = person.merge_codes(svc.engine, user.principal, provisional=values["provvisorio"],
                                  definitive=values["definitivo"], reason=values["motivo"], now=svc.clock(),
                                  today=svc.today())
    except DomainError as exc:
        return _page(request, user, person_id, status=status_of(exc), exc=exc, values=values)
    return _done(request, f"/persone/{done['persona']}?unita=1")
