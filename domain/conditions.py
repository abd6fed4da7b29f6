"""The conditions access is written in (domain/access.py builds them): a small tree over a case's keys, for a
given user, evaluated here in Python (`holds`) and compiled to SQL by `store.access_sql.to_sql`. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.common import age_on
from domain.engine import Actor
from domain.workflow import Role


@dataclass(frozen=True)
class AmbitoScope:
    """The Ambito a user belongs to: its code, its comuni, and whether it is the instance's default Ambito (which
    holds the records placed in no comune)."""

    code: str
    comuni: frozenset[str]
    default: bool = True


@dataclass(frozen=True)
class Principal:
    """The user asking: role plus the keys of their scope."""

    username: str
    role: Role
    sub_ambito: str | None = None
    provider_codice: str | None = None
    comuni: frozenset[str] = frozenset()  # ISTAT codes the user works in (their sub-ambito's comuni)
    is_admin: bool = False  # manages accounts; grants no access to case files by itself
    full_name: str = field(default="", compare=False)  # for display only; decides nothing
    represents: frozenset[str] = frozenset()  # workers whose cases they act on today as deputy (sostituto)
    ambito: AmbitoScope | None = None  # None: not bound to an Ambito (the system; stand-ins weighing a rule)

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.sub_ambito, self.provider_codice)

    @property
    def ambito_code(self) -> str | None:
        """The code of the user's Ambito (None: not bound to one)."""
        return self.ambito.code if self.ambito is not None else None


@dataclass(frozen=True)
class CaseRef:
    """The keys of a case that authorisation looks at (no case data)."""

    case_type: str
    comune_istat: str | None = None
    sub_ambito: str | None = None
    owner: str | None = None
    provider_codice: str | None = None
    minor: bool = False
    state: str | None = None  # None: a case about to be opened
    kind: str | None = None  # the case's kind, if chosen (some transitions are for one kind only)
    ambito: str | None = None  # the case's Ambito (case_file.ambito_code); None: not read, judged by its comune


# ----------------------------------------------------------------------------- conditions


class Cond:
    """A condition over a case's keys, for a given user: evaluated in Python and compiled to SQL."""


@dataclass(frozen=True)
class Always(Cond):
    value: bool


@dataclass(frozen=True)
class OwnerIsUser(Cond):
    pass


@dataclass(frozen=True)
class ComuneInUserComuni(Cond):
    pass


@dataclass(frozen=True)
class InUserSubAmbito(Cond):
    pass


@dataclass(frozen=True)
class InUserAmbito(Cond):
    """The case is in the user's Ambito: its `ambito` (case_file.ambito_code) is the user's; for a case about to
    be opened (no `ambito` yet), its comune is one of the Ambito's, or it has no comune (it is then placed in the
    opener's Ambito: store.reference.case_ambito_sql). Always true for a user bound to no Ambito."""


@dataclass(frozen=True)
class ProviderIsUser(Cond):
    pass


@dataclass(frozen=True)
class TypeIn(Cond):
    types: frozenset[str]


@dataclass(frozen=True)
class StateIn(Cond):
    """The case is in one of `states` (a case about to be opened is in every state)."""

    states: frozenset[str]


@dataclass(frozen=True)
class IsMinor(Cond):
    pass


@dataclass(frozen=True)
class AllOf(Cond):
    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf(Cond):
    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Not(Cond):
    part: Cond


TRUE, FALSE = Always(True), Always(False)


def holds(cond: Cond, user: Principal, case: CaseRef) -> bool:
    """`cond` for one case, in Python (what `store.access_sql.to_sql` says in SQL)."""
    match cond:
        case Always(value):
            return value
        case OwnerIsUser():
            return case.owner is not None and (case.owner == user.username or case.owner in user.represents)
        case ComuneInUserComuni():
            return case.comune_istat is not None and case.comune_istat in user.comuni
        case InUserSubAmbito():
            return user.sub_ambito is not None and case.sub_ambito == user.sub_ambito
        case InUserAmbito():
            a = user.ambito
            if a is None:
                return True
            if case.ambito is not None:  # a stored case: its own column, what the SQL compares
                return case.ambito == a.code
            return case.comune_istat in a.comuni if case.comune_istat is not None else True  # opened in theirs
        case ProviderIsUser():
            return user.provider_codice is not None and case.provider_codice == user.provider_codice
        case TypeIn(types):
            return case.case_type in types
        case StateIn(states):
            return case.state is None or case.state in states
        case IsMinor():
            return case.minor
        case AllOf(parts):
            return all(holds(p, user, case) for p in parts)
        case AnyOf(parts):
            return any(holds(p, user, case) for p in parts)
        case Not(part):
            return not holds(part, user, case)
    raise TypeError(f"condizione sconosciuta: {cond!r}")


# ----------------------------------------------------------------------------- minors


def is_minor(birth: date | None, today: date) -> bool:
    return birth is not None and age_on(birth, today) < 18


def minor_birth_cutoff(today: date) -> date:
    """Born after this day → under 18 on `today` (29 February counts as 28 in a common year)."""
    try:
        return today.replace(year=today.year - 18)
    except ValueError:
        return today.replace(year=today.year - 18, day=28)
