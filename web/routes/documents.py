"""A case's documents on the case page and in the API (DOMAIN.md §14): upload (multipart), list, download.

Thin: the checks (type from the content, size cap, protocol), the access decision, the signature and the
health-read log are the service layer's (services/documents.py). A download is always an attachment with the
type detected on upload, `nosniff` and a sandboxing CSP, so nothing uploaded is ever rendered by the browser as
a page of Legami.
"""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile

from domain.errors import InvalidData, NotFound
from services.documents import add_document, list_documents, read_document
from web import api_models as m
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.routes.api import PREFIX, _SECURITY, ItalianValidationRoute, CaseIdPath, Svc, User
from web.routes.cases import _case_context, _done
from web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix=PREFIX, tags=["API v1"], route_class=ItalianValidationRoute, dependencies=_SECURITY,
                       responses=m.errors(401))
DocIdPath = Annotated[int, Path(ge=1, le=m.MAX_ID, description="Numero del documento")]
FIELDS = ("tipo", "classe", "protocollo_numero", "protocollo_data")


async def _content(upload: Any) -> tuple[bytes, str]:
    """The bytes and the name of an uploaded file (empty when none was chosen)."""
    if upload is None or isinstance(upload, str):
        return b"", ""
    return await upload.read(), upload.filename or ""


def attachment(meta: dict[str, Any], content: bytes) -> Response:
    name = meta["nome_file"]
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name)
    return Response(content, media_type=meta["tipo_file"], headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


# ----------------------------------------------------------------------------- the case page


@router.post("/casi/{case_id}/documenti")
async def upload_on_page(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in FIELDS}
    content, filename = await _content(form.get("file"))
    try:
        doc_id = add_document(svc.engine, user.principal, case_id, content=content, filename=filename,
                              doc_type=values["tipo"], data_class=values["classe"] or "sociale",
                              protocollo_numero=values["protocollo_numero"] or None,
                              protocollo_data=values["protocollo_data"] or None, now=svc.clock())
    except InvalidData as exc:
        from web.documents_view import documents_context

        ctx = _case_context(request, user, case_id)
        ctx.update(documents_context(svc, user, case_id, values=values, errors=exc.errors))
        return render(request, "casi/caso.html", ctx, status_code=422)
    return _done(request, f"/casi/{case_id}?documento={doc_id}#documenti")


@router.get("/casi/{case_id}/documenti/{doc_id}")
async def download_on_page(request: Request, case_id: IdPath, doc_id: IdPath,
                           user: CurrentUser = Depends(current_user)):
    svc = services(request)
    meta, content = read_document(svc.engine, user.principal, doc_id, now=svc.clock())
    if meta["caso"] != case_id:
        raise NotFound(f"documento {doc_id} inesistente per il caso {case_id}")
    return attachment(meta, content)


# ----------------------------------------------------------------------------- the API


@api_router.get("/casi/{caso_id}/documenti", response_model=list[m.Documento], responses=m.errors(403, 404, 422),
                summary="Documenti del caso",
                description="I documenti (caricati o generati) delle classi che il ruolo può vedere, dal più "
                            "vecchio; l'elenco di documenti sanitari è registrato tra le letture sanitarie.")
def documents(caso_id: CaseIdPath, user: User, svc: Svc) -> list[dict[str, Any]]:
    return list_documents(svc.engine, user.principal, caso_id, now=svc.clock())


@api_router.post("/casi/{caso_id}/documenti", status_code=201, response_model=m.DocumentoRegistrato,
                 responses=m.errors(403, 404, 413, 422), summary="Carica un documento nel caso",
                 description="multipart/form-data: «file» e «tipo» (patto_firmato, isee, certificato, "
                             "relazione_ente, altro), «classe» (sociale o sanitario), «protocollo_numero» e "
                             "«protocollo_data» (gg/mm/aaaa) facoltativi. Il tipo di file è letto dal contenuto "
                             "(PDF, JPEG, PNG, P7M); con dati non validi risponde 422 e non registra nulla.")
async def upload(caso_id: CaseIdPath, user: User, svc: Svc, response: Response,
                 file: Annotated[UploadFile, File(description="Il file")],
                 tipo: Annotated[str, Form(max_length=40, description="Tipo di documento")],
                 classe: Annotated[str, Form(max_length=20)] = "sociale",
                 protocollo_numero: Annotated[str | None, Form(max_length=40)] = None,
                 protocollo_data: Annotated[str | None, Form(max_length=40)] = None) -> dict[str, Any]:
    content, filename = await _content(file)
    doc_id = add_document(svc.engine, user.principal, caso_id, content=content, filename=filename, doc_type=tipo,
                          data_class=classe, protocollo_numero=protocollo_numero or None,
                          protocollo_data=protocollo_data or None, now=svc.clock())
    url = f"{PREFIX}/documenti/{doc_id}"
    response.headers["Location"] = url
    return {"caso": caso_id, "documento": doc_id, "url": url}


@api_router.get("/documenti/{documento_id}", responses={**m.errors(403, 404, 422), 200: {
                    "content": {"application/octet-stream": {}}, "description": "Il file, come allegato"}},
                response_class=Response, summary="Scarica un documento",
                description="Il file come allegato (mai mostrato come pagina). La lettura di un documento "
                            "sanitario è registrata.")
def download(documento_id: DocIdPath, user: User, svc: Svc) -> Response:
    meta, content = read_document(svc.engine, user.principal, documento_id, now=svc.clock())
    return attachment(meta, content)
