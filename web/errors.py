"""How errors map to HTTP, in Italian: one place for the pages, the API and the forms.

The service layer's errors get their status here (`status_of`); the web's own refusals (an unknown path, a
malformed or out-of-range id, a body over the cap, a method not allowed) get an Italian title and message
(`http_error`), answered as the error page on pages and as `{"detail", "errori"}` on /api.
"""
from __future__ import annotations

from http import HTTPStatus

from domain.access import AccessDenied
from domain.errors import (
    ConflictError,
    DomainError,
    EffectiveDateInvalid,
    GuardRefused,
    InvalidData,
    NotFound,
    RoleNotAllowed,
    TransitionNotAllowed,
    UnknownCaseType,
    UnknownTransition,
)


def status_of(exc: DomainError) -> int:
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, (NotFound, UnknownCaseType)):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, (InvalidData, GuardRefused, TransitionNotAllowed, RoleNotAllowed, EffectiveDateInvalid,
                        UnknownTransition)):
        return 422
    return 400


def errors_payload(exc: DomainError) -> list[dict[str, str]]:
    if isinstance(exc, InvalidData):
        return [{"campo": e.field, "etichetta": e.label, "messaggio": e.message} for e in exc.errors]
    if isinstance(exc, GuardRefused):
        return [{"campo": "", "etichetta": "", "messaggio": r} for r in exc.reasons]
    return []


HTTP_ERRORS: dict[int, tuple[str, str]] = {  # status -> (page title, message)
    400: ("Richiesta non valida", "la richiesta non è leggibile"),
    401: ("Accesso richiesto", "autenticazione richiesta"),
    403: ("Accesso negato", "richiesta rifiutata"),
    404: ("Non trovato", "la pagina o la risorsa richiesta non esiste"),
    405: ("Metodo non ammesso", "questa operazione non è ammessa a questo indirizzo"),
    409: ("Conflitto", "la risorsa è stata modificata nel frattempo"),
    413: ("Richiesta troppo grande", "richiesta troppo grande"),
    415: ("Formato non supportato", "formato della richiesta non supportato"),
    422: ("Dati non validi", "dati non validi"),
    429: ("Troppe richieste", "troppe richieste: riprovare più tardi"),
}


def http_error(status: int, detail: object = None) -> tuple[str, str]:
    """(title, Italian message) for an HTTP refusal; a detail other than the English reason phrase is kept
    (Legami's own refusals are already Italian)."""
    title, message = HTTP_ERRORS.get(status, ("Errore", "richiesta non riuscita"))
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = None
    if isinstance(detail, str) and detail and detail != phrase:
        message = detail
    return title, message


def too_large_message(max_bytes: int) -> str:
    return f"richiesta troppo grande: il limite è di {max_bytes // 1024} KiB"
