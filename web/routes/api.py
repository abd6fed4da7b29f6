"""The REST API, /api/v1: the same service layer and the same authorisation as the pages.

Authentication: HTTP Basic (integrations) or the session cookie with the `X-CSRF-Token` header on unsafe
methods (web.deps.current_user). Scope and redaction are the service layer's (services/access.py); the
routes validate input, call it and shape the answer. Bad input never reaches the database: ids are bounded
positive integers, dates fall between 2000 and 2100, and request validation errors are answered like the
domain's own, in Italian: `{"detail", "errori": [{campo, etichetta, messaggio}]}`.
"""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPBasic
from starlette.exceptions import HTTPException

from domain.errors import InvalidData, NotFound
from domain.registry import all_workflows, get_workflow
from domain.validation import FieldError, error_message
from services import api_queries, referral
from services.access import authorize_read, case_ref, scoped_filter
from services.dashboard import indicators_for
from services.diary import add_entry, read_entries
from services.queries import CaseFilter, ListKey, page_of_cases
from web import api_models as m
from web.deps import SESSION_COOKIE, CurrentUser, Services, current_user, services

PREFIX = "/api/v1"
MAX_LIMIT = 500

# ----------------------------------------------------------------------------- request validation in Italian

_PARAM_LABELS = {
    "caso_id": "Numero del caso",
    "nome": "Nome della transizione",
    "tipo": "Tipo di caso",
    "stato": "Stato",
    "comune": "Comune",
    "in_ritardo": "Solo in ritardo",
    "limit": "Numero massimo di risultati",
    "dopo": "Dopo il caso",
    "entro_giorni": "Entro giorni",
    "anno": "Anno",
    "sub_ambito": "Sub-ambito",
    "dati": "Dati",
    "motivo": "Motivo",
    "efficace_il": "Efficace il",
    "versione_attesa": "Versione attesa",
    "comune_istat": "Comune (codice ISTAT)",
    "transizione": "Transizione di apertura",
    "tipologia": "Tipologia",
    "caso_collegato": "Caso collegato",
    "avvenuto_il": "Data e ora del contatto",
    "partecipanti": "Partecipanti",
    "testo": "Testo",
    "classe": "Classe del dato",
    "rettifica_di": "Rettifica della voce",
    "atto": "Atto",
    "contenuti": "Contenuti dell'atto",
    "documento_id": "Numero del documento",
    "file": "File",
    "protocollo_numero": "Numero di protocollo",
    "protocollo_data": "Data di protocollo",
    "formato": "Formato",
}


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc else ("body", [])
        if error.get("type") == "json_invalid":
            path = []  # the location is a character position, not a field
        field = ".".join(path)
        label = " › ".join(_PARAM_LABELS.get(p, p) for p in path) or "Corpo della richiesta"
        if error.get("type") == "json_invalid":
            message = "JSON non valido"
        elif error.get("type") == "missing" and where == "body" and not path:
            message = "corpo della richiesta mancante"
        else:
            try:
                message = error_message(error)
            except Exception:  # noqa: BLE001 - an unexpected error shape still gets a message
                message = "valore non valido"
        out.append(FieldError(field, label, message))
    return out


def _unprocessable(errors: list[FieldError]) -> JSONResponse:
    return JSONResponse(
        {"detail": "dati non validi: " + "; ".join(str(e) for e in errors),
         "errori": [{"campo": e.field, "etichetta": e.label, "messaggio": e.message} for e in errors]},
        status_code=422)


class ItalianValidationRoute(APIRoute):
    """Path, query and body validation errors answered as 422 with Italian messages naming the field."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                path = [e["loc"][-1] for e in exc.errors() if e.get("loc", ("",))[0] == "path"]
                if path:  # an id past the range (or a name too long) names nothing: 404
                    what = "caso inesistente" if "caso_id" in path else "risorsa inesistente"
                    return JSONResponse({"detail": what, "errori": []}, status_code=404)
                return _unprocessable(_field_errors(exc))
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                # FastAPI's "There was an error parsing the body": bytes that are not text at all
                return _unprocessable([FieldError("", "Corpo della richiesta", "corpo della richiesta illeggibile")])

        return route


# ----------------------------------------------------------------------------- security (documented in OpenAPI)


class _Documented:
    """Security schemes shown in OpenAPI; the check itself is web.deps.current_user."""

    async def __call__(self, request: Request) -> None:
        return None


class _Basic(_Documented, HTTPBasic):
    pass


class _SessionCookie(_Documented, APIKeyCookie):
    pass


_SECURITY = [
    Depends(_Basic(scheme_name="basic", description="Utente e password di Legami (integrazioni)", auto_error=False)),
    Depends(_SessionCookie(name=SESSION_COOKIE, scheme_name="sessione", auto_error=False,
                           description="Cookie della sessione aperta da /accesso; sulle richieste POST serve anche "
                                       "l'intestazione X-CSRF-Token con il token della sessione")),
]

router = APIRouter(prefix=PREFIX, tags=["API v1"], route_class=ItalianValidationRoute, dependencies=_SECURITY,
                   responses=m.errors(401))

async def _services(request: Request) -> Services:
    """web.deps.services as a coroutine: a plain function dependency would cost a thread-pool hop per request."""
    return services(request)


User = Annotated[CurrentUser, Depends(current_user)]
Svc = Annotated[Services, Depends(_services)]
CaseIdPath = Annotated[int, Path(ge=1, le=m.MAX_ID, description="Numero del caso")]


def _invalid(field: str, label: str, message: str) -> InvalidData:
    return InvalidData([FieldError(field, label, message)])


def _known_type(tipo: str, field: str = "tipo") -> None:
    known = sorted(wf.case_type for wf in all_workflows())
    if tipo not in known:
        raise _invalid(field, "Tipo di caso", f"valore non ammesso: scegliere tra {', '.join(known)}")


# ----------------------------------------------------------------------------- case types


@router.get("/tipi", response_model=list[m.TipoCaso], summary="Tipi di caso dichiarati",
            description="Stati, transizioni (con i ruoli ammessi) ed etichette di ogni tipo di caso.")
def case_types(user: User) -> list[dict[str, Any]]:
    return api_queries.case_types()


# ----------------------------------------------------------------------------- cases


PAGE_HEADERS = {
    "X-Totale": {"description": "Quanti casi corrispondono ai filtri, tutte le pagine insieme",
                 "schema": {"type": "integer"}},
    "Link": {"description": 'La pagina successiva, se c\'è: `</api/v1/casi?...&dopo=123>; rel="next"`',
             "schema": {"type": "string"}},
}


@router.get("/casi", response_model=list[m.CasoInElenco],
            responses={200: {"description": "Una pagina di casi, per numero crescente", "headers": PAGE_HEADERS},
                       **m.errors(422)},
            summary="Casi visibili",
            description="I casi nell'ambito dell'utente, filtrabili, per numero crescente e a pagine: al più "
                        "`limit` casi dopo il caso `dopo`; l'intestazione `X-Totale` dà il numero esatto di casi "
                        "che corrispondono ai filtri, `Link` (rel=\"next\") l'indirizzo della pagina successiva.")
def cases(
    request: Request,
    response: Response,
    user: User,
    svc: Svc,
    tipo: Annotated[str | None, Query(max_length=60, description="Tipo di caso (es. patto)")] = None,
    stato: Annotated[str | None, Query(max_length=60, description="Stato (es. ACTIVE)")] = None,
    comune: Annotated[str | None, Query(max_length=80, description="Codice ISTAT o nome del comune")] = None,
    in_ritardo: Annotated[bool, Query(description="Solo i casi con una scadenza superata")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Numero massimo di risultati")] = 100,
    dopo: Annotated[int | None, Query(ge=1, le=m.MAX_ID, description="Solo i casi con numero maggiore di questo "
                                      "(l'ultimo della pagina precedente)")] = None,
) -> list[dict[str, Any]]:
    if tipo:
        _known_type(tipo)
    today = svc.today()
    f = CaseFilter(case_type=tipo or None, state=stato or None, comune=comune or None, overdue=in_ritardo,
                   limit=limit, after=ListKey.of_id(dopo) if dopo else None)
    page = page_of_cases(svc.engine, f, today=today, scope=scoped_filter(user.principal, today=today))
    response.headers["X-Totale"] = str(page.total)
    if page.next_key is not None:
        following = request.url.include_query_params(dopo=page.next_key.id)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return page.rows


@router.post("/casi", status_code=201, response_model=m.CasoAperto, responses={
                 **m.errors(403, 404, 422), 409: {"model": m.Errore, "description": "La persona ha già un caso "
                                                  "aperto dello stesso tipo: per aprirne un altro indicare il motivo"}},
             summary="Apre un caso",
             description="Esegue la transizione di apertura del tipo. Risponde 201 con l'intestazione Location; 409 se "
                         "la persona ha già un caso aperto dello stesso tipo e manca il motivo.")
def open_case(body: m.AperturaCaso, user: User, svc: Svc, response: Response) -> dict[str, Any]:
    _known_type(body.tipo)
    if body.caso_collegato is not None:
        try:
            authorize_read(svc.engine, user.principal, body.caso_collegato, today=svc.today())
        except NotFound:
            raise _invalid("caso_collegato", "Caso collegato", f"il caso {body.caso_collegato} non esiste") from None
    kwargs: dict[str, Any] = {}
    if body.tipologia is not None:
        kwargs["kind"] = body.tipologia
    if body.caso_collegato is not None:
        kwargs["related_case_id"] = body.caso_collegato
    case_id = svc.scoped.open_case(user.principal, case_type=body.tipo, data=body.dati, transition=body.transizione,
                                   comune_istat=body.comune_istat, effective_at=body.efficace_il,
                                   reason=body.motivo, **kwargs)
    url = f"{PREFIX}/casi/{case_id}"
    response.headers["Location"] = url
    notice = referral.notice_for(svc.engine, user.principal, case_id, today=svc.today())
    return {**api_queries.case_state(svc.engine, case_id), "url": url, "persona_nota": notice}


@router.get("/casi/{caso_id}", response_model=m.DettaglioCaso, responses=m.errors(403, 404, 422),
            summary="Dettaglio di un caso",
            description="Storia, scadenze e prossime transizioni; i campi che il ruolo non può vedere sono tolti "
                        "(elencati in «dati_riservati»). La lettura di dati sanitari è registrata.")
def case(caso_id: CaseIdPath, user: User, svc: Svc) -> dict[str, Any]:
    return svc.scoped.read(user.principal, caso_id)


@router.get("/casi/{caso_id}/transizioni", response_model=list[m.TransizionePossibile],
            responses=m.errors(403, 404, 422), summary="Transizioni possibili ora",
            description="Le transizioni che l'utente può eseguire adesso sul caso, con lo schema dei dati richiesti.")
def case_transitions(caso_id: CaseIdPath, user: User, svc: Svc) -> list[dict[str, Any]]:
    names = svc.scoped.allowed(user.principal, caso_id)
    with svc.engine.connect() as conn:
        ref = case_ref(conn, caso_id, svc.today())
    return api_queries.transition_offers(ref.case_type, names)


@router.post("/casi/{caso_id}/transizioni/{nome}", response_model=m.EsitoTransizione,
             responses=m.errors(403, 404, 409, 422), summary="Esegue una transizione",
             description="Con dati non validi risponde 422 (errori per campo, in italiano) e non registra nulla; "
                         "se il caso è cambiato dalla «versione_attesa», 409.")
def fire(caso_id: CaseIdPath, nome: Annotated[str, Path(max_length=60, description="Nome della transizione")],
         body: m.Esecuzione, user: User, svc: Svc) -> dict[str, Any]:
    # the outcome as the transition wrote it (seq is the case's new version): no read of the case after it
    seq, case_type, state = svc.scoped.fire(user.principal, case_id=caso_id, transition=nome, data=body.dati,
                                            reason=body.motivo, effective_at=body.efficace_il,
                                            expected_version=body.versione_attesa)
    return {"caso": caso_id, "transizione": nome, "seq": seq, "stato": state,
            "stato_etichetta": get_workflow(case_type).state(state).label, "versione": seq}


@router.get("/casi/{caso_id}/scadenze", response_model=list[m.Scadenza], responses=m.errors(403, 404, 422),
            summary="Scadenze di un caso")
def case_deadlines(caso_id: CaseIdPath, user: User, svc: Svc) -> list[dict[str, Any]]:
    today = svc.today()
    authorize_read(svc.engine, user.principal, caso_id, today=today)
    return api_queries.case_deadlines(svc.engine, caso_id, today)


# ----------------------------------------------------------------------------- the case diary


@router.get("/casi/{caso_id}/diario", response_model=list[m.VoceDiario], responses=m.errors(403, 404, 422),
            summary="Diario del caso",
            description="Le voci del diario (colloqui, visite, telefonate, relazioni, riunioni) delle classi che il "
                        "ruolo può vedere, dalla più vecchia; una voce rettificata resta, con il numero di quella "
                        "che la corregge. La lettura di voci sanitarie è registrata.")
def diary(caso_id: CaseIdPath, user: User, svc: Svc) -> list[dict[str, Any]]:
    return read_entries(svc.engine, user.principal, caso_id, now=svc.clock())


@router.post("/casi/{caso_id}/diario", status_code=201, response_model=m.VoceRegistrata,
             responses=m.errors(403, 404, 422), summary="Aggiunge una voce al diario",
             description="Con dati non validi risponde 422 (errori per campo, in italiano) e non registra nulla. "
                         "Le voci non si modificano: una correzione è una nuova voce con «rettifica_di».")
def add_to_diary(caso_id: CaseIdPath, body: m.NuovaVoceDiario, user: User, svc: Svc,
                 response: Response) -> dict[str, Any]:
    number = add_entry(svc.engine, user.principal, caso_id, body.model_dump(), now=svc.clock())
    url = f"{PREFIX}/casi/{caso_id}/diario"
    response.headers["Location"] = url
    return {"caso": caso_id, "numero": number, "url": url}


# ----------------------------------------------------------------------------- deadlines


@router.get("/scadenze", response_model=list[m.ScadenzaAperta], responses=m.errors(422),
            summary="Le mie scadenze aperte",
            description="Scadenze aperte in ritardo o in arrivo dei casi di cui l'utente risponde, nel suo ambito.")
def my_deadlines(
    user: User,
    svc: Svc,
    entro_giorni: Annotated[int, Query(ge=0, le=366, description="Anche quelle in scadenza entro tanti giorni")] = 30,
    in_ritardo: Annotated[bool, Query(description="Solo quelle già superate")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> list[dict[str, Any]]:
    today, principal = svc.today(), svc.scoped.deputised(user.principal)  # a deputy answers for the absent's too
    return api_queries.open_deadlines(svc.engine, principal, scoped_filter(principal, today=today),
                                      today=today, within_days=entro_giorni, overdue_only=in_ritardo, limit=limit)


# ----------------------------------------------------------------------------- indicators


@router.get("/indicatori", response_model=m.Indicatori, responses=m.errors(403, 422), summary="Indicatori",
            description="Indicatori aggregati per sub-ambito, con le celle sotto la soglia di riservatezza "
                        "nascoste. Per Ufficio di Piano, Organismo di Valutazione, CSC e coordinatori (questi "
                        "ultimi: solo il proprio sub-ambito e i totali del distretto, come nel cruscotto).")
def indicators(
    user: User,
    svc: Svc,
    anno: Annotated[int | None, Query(ge=2000, le=2100, description="Anno (predefinito: l'anno in corso)")] = None,
    sub_ambito: Annotated[str | None, Query(max_length=60, description="Solo le righe di questo sub-ambito")] = None,
    per: Annotated[Literal["sub_ambito", "distretto", "ente_gestore"],
                   Query(description="Ripartizione delle righe (distretto ed ente gestore: non per i coordinatori)")]
    = "sub_ambito",
) -> dict[str, Any]:
    today = svc.today()
    year = anno or today.year
    if year > today.year:
        raise _invalid("anno", "Anno", f"deve essere minore o uguale a {today.year}")
    return indicators_for(svc.engine, user.principal, today=today, year=year, sub_ambito=sub_ambito, per=per)

