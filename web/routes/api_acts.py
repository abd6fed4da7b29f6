"""The API of the generated acts, /api/v1/casi/{id}/atti: the acts offered and generated, and «genera» (stored
among the case's documents with its SHA-256; downloaded as any document, GET /api/v1/documenti/{id}). Same service
layer and authorisation as the page."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel, ConfigDict, Field

from services.acts import generate_act, generated_acts, offered_acts
from web.routes.api import PREFIX, CaseIdPath, Svc, User, router
from web import api_models as m


ActPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{2,40}$", description="Nome dell'atto")]


class RichiestaAtto(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contenuti: dict[str, Any] | None = Field(
        default=None, description="Solo per un atto da firmare prima del suo passo (il patto): i contenuti che il "
                                  "caso non ha ancora registrato (obiettivi, impegni, misura economica, date, "
                                  "firmatari); le parti omesse restano da compilare a mano.")


@router.get("/casi/{caso_id}/atti", responses=m.errors(403, 404, 422), summary="Atti del caso",
            description="Gli atti che lo stato del caso offre all'utente e quelli già generati che può leggere.")
def acts(caso_id: CaseIdPath, user: User, svc: Svc) -> dict[str, Any]:
    now = svc.clock()
    return {"offerti": offered_acts(svc.engine, user.principal, caso_id, now=now),
            "generati": generated_acts(svc.engine, user.principal, caso_id, now=now)}


@router.post("/casi/{caso_id}/atti/{atto}", status_code=201, responses=m.errors(403, 404, 422),
             summary="Genera un atto (PDF/A)",
             description="Genera l'atto dai dati del caso, lo archivia tra i documenti del caso (tipo «atto», origine "
                         "«generato», impronta SHA-256) e ne restituisce i dati con l'indirizzo per scaricarlo "
                         "(GET /api/v1/documenti/{id}).")
def generate(caso_id: CaseIdPath, atto: ActPath, user: User, svc: Svc, response: Response,
             body: RichiestaAtto | None = None) -> dict[str, Any]:
    doc = generate_act(svc.engine, user.principal, caso_id, atto, contents=body.contenuti if body else None,
                       now=svc.clock())
    url = f"{PREFIX}/documenti/{doc['id']}"  # the documents' download (services/documents.py's rule)
    response.headers["Location"] = url
    return doc | {"url": url}
