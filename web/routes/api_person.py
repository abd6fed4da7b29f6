"""The person across measures in the REST API (/api/v1/persone, DOMAIN.md §13): the same service layer and the same
authorisation as the pages (services/person.py, domain/access.py), the same Italian validation as web/routes/api.py."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services import person
from web import api_models as m
from web.routes.api import _SECURITY, PREFIX, CaseIdPath, ItalianValidationRoute, Svc, User

router = APIRouter(prefix=PREFIX, tags=["API v1"], route_class=ItalianValidationRoute, dependencies=_SECURITY,
                   responses=m.errors(401))
PersonIdPath = Annotated[int, Path(ge=1, le=m.MAX_ID, description="Numero della persona")]


class Unione(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Unione di un codice provvisorio nel codice fiscale definitivo")

    provvisorio: str = Field(title="Codice provvisorio (11 cifre)", min_length=11, max_length=11)
    definitivo: str = Field(title="Codice fiscale definitivo", min_length=16, max_length=16)
    motivo: str = Field(title="Motivo", min_length=3, max_length=500)


class Risoluzione(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Risoluzione di una discrepanza anagrafica")

    esito: str = Field(title="Esito", description="archivio (resta l'anagrafica in archivio) o indicato (vale "
                                                  "quanto indicato alla segnalazione)", max_length=20)
    nota: str | None = Field(default=None, title="Nota", max_length=500)


@router.get("/persone/{persona_id}", responses=m.errors(404, 422), summary="La persona e i suoi casi",
            description="Ogni caso della persona che l'utente può consultare, tra tutte le misure; degli altri solo "
                        "quanti sono e a chi rivolgersi. 404 se l'utente non può consultarne nessuno.")
def person_page(persona_id: PersonIdPath, user: User, svc: Svc) -> dict[str, Any]:
    return person.person_page(svc.engine, user.principal, persona_id, today=svc.today())


@router.get("/casi/{caso_id}/persona", responses=m.errors(403, 404, 422), summary="La persona di un caso",
            description="La stessa risposta di /persone/{id}, per la persona del caso.")
def person_of_case(caso_id: CaseIdPath, user: User, svc: Svc) -> dict[str, Any]:
    return person.person_page(svc.engine, user.principal, _person_id(svc, user, caso_id), today=svc.today())


def _person_id(svc: Any, user: Any, case_id: int) -> int:
    return person.person_id_of_case(svc.engine, user.principal, case_id, today=svc.today())


@router.post("/persone/unione", responses=m.errors(403, 404, 422), summary="Unisce un codice provvisorio",
             description="Sposta i casi della persona con il codice provvisorio (11 cifre) alla persona con il codice "
                         "fiscale definitivo (o assegna il codice definitivo). Coordinatore o CSC che consultano tutti "
                         "i casi coinvolti; le varianti per omocodia non si uniscono mai.")
def merge(body: Unione, user: User, svc: Svc) -> dict[str, Any]:
    return person.merge_codes(svc.engine, user.principal, provisional=body.provvisorio, definitive=body.definitivo,
                              reason=body.motivo, now=svc.clock(), today=svc.today())


@router.post("/casi/{caso_id}/discrepanza", responses=m.errors(403, 404, 422),
             summary="Risolve la discrepanza anagrafica di un caso",
             description="«archivio»: resta l'anagrafica in archivio; «indicato»: vale quanto indicato alla "
                         "segnalazione del caso. Coordinatore o CSC che consultano tutti i casi della persona.")
def resolve(caso_id: CaseIdPath, body: Risoluzione, user: User, svc: Svc) -> dict[str, Any]:
    return person.resolve_discrepancy(svc.engine, user.principal, case_id=caso_id, choice=body.esito, note=body.nota,
                                      now=svc.clock(), today=svc.today())
