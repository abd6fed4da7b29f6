"""Identity at referral (DOMAIN.md §13): what differs between a stored person and what a worker typed, and
what a worker who may read none of the person's cases is told (that the person is known, and whom to contact)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

COMPARED = (("cognome", "Cognome"), ("nome", "Nome"), ("data_nascita", "Data di nascita"))


def _normal(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value or "").split()).casefold()


def identity_differences(stored: Mapping[str, Any], typed: Mapping[str, Any]) -> list[str]:
    """The compared fields (cognome, nome, data_nascita) whose typed value differs from the stored one; case
    and spacing do not count as a difference."""
    return [key for key, _ in COMPARED if _normal(stored.get(key)) != _normal(typed.get(key))]


def display(key: str, value: Any) -> str:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def contact(sub_ambito: str | None) -> str:
    """Whom to ask about a person's cases in `sub_ambito`: a role and a place, never a person's name."""
    return f"il coordinatore del sub-ambito {sub_ambito}" if sub_ambito else "l'Ufficio di Piano"


def known_elsewhere_notice(sub_ambiti: Iterable[str | None]) -> str:
    contacts = list(dict.fromkeys(contact(s) for s in sorted(sub_ambiti, key=lambda s: s or "")))
    return ("La persona è già nota ai servizi dell'Ambito. Per informazioni rivolgersi a: "
            + ", ".join(contacts) + ".")


def matches(words: Iterable[str], identity: Mapping[str, Any]) -> bool:
    """Whether every word of a search is part of the identity's surname, name or codice fiscale (case apart): the
    search of the case list, over an identity its reader may know."""
    fields = [_normal(identity.get(k)) for k in ("cognome", "nome", "codice_fiscale")]
    return all(any(w.casefold() in f for f in fields) for w in words)
