"""Building blocks shared by the declarations: the person form and reusable guards."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from domain.bounds import TEXT_MAX, Bounded
from domain.engine import Context
from domain.italian import euro  # noqa: F401  (the declarations' guards import it from here)
from domain.validation import (
    CodiceFiscale,
    Email,
    Isee,
    ItalianDate,
    PastDate,
    birth_date_from_codice_fiscale,
    is_provisional_codice_fiscale,
    today_from,
)
from domain.workflow import Guard, Role


class Form(Bounded):
    """Base of every transition's data: unknown fields are refused, never silently dropped; text, lists,
    dates and amounts are bounded (`domain.bounds`: a field's own bound, or the default)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=TEXT_MAX)


class Persona(Form):
    codice_fiscale: CodiceFiscale = Field(title="Codice fiscale")
    cognome: str = Field(title="Cognome", min_length=1, max_length=80)
    nome: str = Field(title="Nome", min_length=1, max_length=80)
    data_nascita: PastDate = Field(title="Data di nascita")
    email: Email | None = Field(default=None, title="E-mail", max_length=200)
    telefono: str | None = Field(default=None, title="Telefono", max_length=20, pattern=r"^\+?[0-9 ]{6,19}$")

    @model_validator(mode="after")
    def birth_date_matches_codice_fiscale(self, info: ValidationInfo) -> "Persona":
        if not is_provisional_codice_fiscale(self.codice_fiscale):
            from_cf = birth_date_from_codice_fiscale(self.codice_fiscale, today_from(info))
            if from_cf != self.data_nascita:
                raise ValueError(
                    f"la data di nascita {self.data_nascita:%d/%m/%Y} non corrisponde al codice fiscale "
                    f"({from_cf:%d/%m/%Y})"
                )
        return self


class AggiornamentoIsee(Form):
    isee: Isee = Field(title="Nuova attestazione ISEE")


def newer_isee(ctx: Context) -> str | None:
    """A renewal must carry a DSU later than the one on file (the year-end renewal, DOMAIN.md §9)."""
    current = (ctx.case.data.get("isee") or {}).get("data_dsu")
    if current and ctx.data.isee.data_dsu <= as_date(current):
        return f"la nuova DSU deve essere successiva a quella in archivio ({as_date(current):%d/%m/%Y})"
    return None


class Rinuncia(Form):
    dichiarazione_del: ItalianDate = Field(title="Data della dichiarazione scritta di rinuncia")


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def months_between(start: date, end: date) -> float:
    return (end.year - start.year) * 12 + (end.month - start.month) + (end.day - start.day) / 30.0


def not_after_effective(field: str, label: str) -> Guard:
    """A date in the data may not lie after the step's effective date."""

    def check(ctx: Context) -> str | None:
        value = getattr(ctx.data, field, None) if ctx.data is not None else None
        value = ctx.merged.get(field) if value is None else value  # repeated records are not merged
        if value is not None and as_date(value) > ctx.effective_on:
            return f"«{label}» ({as_date(value):%d/%m/%Y}) è successiva alla data del passo"
        return None

    return Guard(f"{label} non successiva alla data del passo", check)


def isee_valid_on_effective_date(field: str = "isee") -> Guard:
    def check(ctx: Context) -> str | None:
        isee = ctx.merged.get(field)
        if not isee:
            return None
        year = as_date(isee["data_dsu"]).year
        if ctx.effective_on > date(year, 12, 31):
            return f"l'attestazione ISEE è scaduta il 31/12/{year}: serve una DSU rinnovata"
        return None

    return Guard("ISEE in corso di validità", check)


def assignee_is_social_worker_of_sub_ambito(field: str = "assegnatario") -> Guard:
    def check(ctx: Context) -> str | None:
        username = ctx.merged.get(field)
        user = ctx.world.user(str(username))
        if user is None:
            return f"l'utente «{username}» non esiste"
        if user.role is not Role.SOCIAL_WORKER:
            return f"«{username}» non è un assistente sociale"
        area = ctx.world.sub_ambito_of(ctx.case.comune_istat or "")
        if user.sub_ambito != area:
            return f"«{username}» non opera nel sub-ambito {area}"
        return None

    return Guard("assegnatario: assistente sociale del sub-ambito del caso", check)


