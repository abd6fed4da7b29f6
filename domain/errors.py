"""Domain errors: each carries a message a social worker can read, in Italian."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.validation import FieldError


class DomainError(Exception):
    """Base: str(error) is the Italian message shown to the user."""


class UnknownTransition(DomainError):
    pass


class UnknownCaseType(DomainError):
    pass


class TransitionNotAllowed(DomainError):
    pass


class RoleNotAllowed(DomainError):
    pass


class EffectiveDateInvalid(DomainError):
    pass


class GuardRefused(DomainError):
    def __init__(self, reasons: Sequence[str]):
        self.reasons = list(reasons)
        super().__init__("transizione rifiutata: " + "; ".join(self.reasons))


class InvalidData(DomainError):
    def __init__(self, errors: Sequence["FieldError"]):
        self.errors = list(errors)
        super().__init__("dati non validi: " + "; ".join(str(e) for e in self.errors))


class ConflictError(DomainError):
    """Someone else advanced the case first (optimistic concurrency)."""


class NotFound(DomainError):
    pass


class StateWriteForbidden(DomainError):
    """The state field is written only by a transition."""
