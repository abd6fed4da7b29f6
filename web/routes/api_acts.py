"""The API of the generated acts, /api/v1/casi/{id}/atti: the acts offered and generated, «genera» (stored among
the case's documents with its SHA-256) and the download. Same service layer and authorisation as the page."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel, ConfigDict, Field

from domain.acts import ACT_DOC_TYPE, ACT_ORIGIN
from domain.errors import NotFound
from services.acts import generate_act, generated_acts, offered_acts
from services.access import authorize_read
from services.documents import read_document
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
                         "«generato», impronta SHA-256) e ne restituisce i dati con l'indirizzo per scaricarlo.")
def generate(caso_id: CaseIdPath, atto: ActPath, user: User, svc: Svc, response: Response,
             body: RichiestaAtto | None = None) -> dict[str, Any]:
    doc = generate_act(svc.engine, user.principal, caso_id, atto, contents=body.contenuti if body else None,
                       now=svc.clock())
    url = f"{PREFIX}/casi/{caso_id}/atti/documenti/{doc['id']}"
    response.headers["Location"] = url
    return doc | {"url": url}


@router.get("/casi/{caso_id}/atti/documenti/{documento_id}", responses=m.errors(403, 404, 422),
            response_class=Response, summary="Scarica un atto generato",
            description="Il PDF/A dell'atto, sempre come allegato; a chi può leggere il caso e la classe dell'atto.")
def download(caso_id: CaseIdPath, documento_id: CaseIdPath, user: User, svc: Svc) -> Response:
    return act_download(svc, user, caso_id, documento_id)


def act_download(svc: Any, user: Any, case_id: int, doc_id: int) -> Response:
    """The act's PDF as an attachment: the case's scope first (out of scope learns nothing, not even whether the
    document exists), then the document's own rule (services/documents.py)."""
    authorize_read(svc.engine, user.principal, case_id, today=svc.today())
    shown, content = read_document(svc.engine, user.principal, doc_id, now=svc.clock())
    if shown["caso"] != case_id or shown["origine"] != ACT_ORIGIN or shown["tipo"] != ACT_DOC_TYPE:
        raise NotFound(f"il caso {case_id} non ha un atto generato n. {doc_id}")
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{shown["nome_file"]}"',
        "X-Content-Type-Options": "nosniff", "X-Impronta-SHA256": shown["sha256"]})
