"""How the service layer's Italian errors map to HTTP: one place for the pages, the API and the forms."""
from __future__ import annotations

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
