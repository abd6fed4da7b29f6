"""Who receives what: roles, owners and providers resolved to people (read once per sweep)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from store import reference, users


@dataclass(frozen=True)
class Recipient:
    key: str  # username, or "email:<address>" for an address without a Legami user
    email: str
    nome: str
    ruolo: str
    username: str | None = None

    def as_payload(self) -> dict:
        return {"username": self.username, "nome": self.nome, "ruolo": self.ruolo}


class Directory:
    """Users, providers, comuni and Ambiti, read on `conn`: all at once (the default: usable after `conn` is
    closed), or with `lazy=True` each part at its first use, while `conn` is open (Oggi needs one or two parts
    of it on each request)."""

    def __init__(self, conn: Connection, *, lazy: bool = False):
        self._conn = conn
        if not lazy:
            for name in _PARTS:
                getattr(self, name)
            self._conn = None

    def __getattr__(self, name: str):  # only for a part not read yet
        load = _PARTS.get(name)
        if load is None or name.startswith("_"):
            raise AttributeError(name)
        value = load(self, self._conn)
        setattr(self, name, value)
        return value

    def _user(self, u) -> Recipient:
        return Recipient(u.username, u.email, u.full_name, u.role, u.username)

    def _address(self, email: str, nome: str, ruolo: str) -> Recipient:
        return Recipient(f"email:{email}", email, nome, ruolo)

    def _ambito_of_user(self, u) -> str | None:
        return u.ambito_code or (self.district.code if self.district else None)

    def role(self, role: str, sub_ambito: str | None = None, comune: str | None = None,
             case_ambito: str | None = None) -> list[Recipient]:
        """The users of `role` in the case's Ambito (`case_ambito`; else the comune's; no comune: the default
        Ambito's), else the office's address.
        The managing body is per comune: the administrative staff of a comune's case are the users tied to the
        body managing it (`app_user.ente_gestore`); where the Ambito has several bodies and that one has no
        user, its address; where it has one body, its users or the Ambito's untied administrative users."""
        default = self.district.code if self.district else None
        ambito = case_ambito or (self.comune_ambito.get(comune, default) if comune else default)
        ente = self.comune_ente.get(comune) if comune else None
        if role == "csc_admin" and ente is not None:
            staff = [self._user(u) for u in self.users.values() if u.role == role and u.ente_gestore == ente.codice]
            if staff:
                return staff
            if self.enti_per_ambito.get(ente.ambito_code, 1) > 1:
                return [self._address(ente.email, ente.nome, role)]
        found = [self._user(u) for u in self.users.values()
                 if u.role == role and (role != "subarea_coordinator" or sub_ambito in (None, u.sub_ambito))
                 and (ambito is None or self._ambito_of_user(u) == ambito)
                 and (role != "csc_admin" or u.ente_gestore is None or ente is None or u.ente_gestore == ente.codice)]
        if found:
            return found
        return self._fallback(role, sub_ambito, ambito, ente)

    def _fallback(self, role: str, sub_ambito: str | None, ambito: str | None = None,
                  ente=None) -> list[Recipient]:
        d = self.ambiti.get(ambito) if ambito else self.district
        if role == "planning_office" and d:
            return [self._address(d.planning_office_email, "Ufficio di Piano", role)]
        if role == "csc_admin" and ente is not None:
            return [self._address(ente.email, ente.nome, role)]
        if role == "csc_admin" and d:
            return [self._address(d.managing_company_email, d.managing_company, role)]
        if role == "subarea_coordinator" and sub_ambito in self.coordinator_email:
            return [self._address(self.coordinator_email[sub_ambito], f"Coordinamento {sub_ambito}", role)]
        return []

    def provider(self, codice: str | None) -> list[Recipient]:
        if not codice:
            return []
        users = [self._user(u) for u in self.users.values() if u.role == "provider" and u.provider_codice == codice]
        if users:
            return users
        p = self.providers.get(codice)
        return [self._address(p.email, p.nome, "provider")] if p else []

    def resolve(self, token: str, *, comune: str | None = None, owner: str | None = None,
                provider: str | None = None, sub_ambito: str | None = None,
                ambito: str | None = None) -> list[Recipient]:
        """A recipient token of the configuration: a role, "owner" or "ente"; `ambito`: the case's
        (case_file.ambito_code), so that a record placed in no comune reaches its own Ambito's office."""
        area = sub_ambito or (self.comune_area.get(comune) if comune else None)
        if token == "owner":
            return [self._user(self.users[owner])] if owner in self.users else self.role("subarea_coordinator", area,
                                                                                         comune, ambito)
        if token == "ente":
            return self.provider(provider)
        return self.role(token, area, comune, ambito)


def _enti_per_ambito(d: Directory, _conn: Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _codice, ambito in {(e.codice, e.ambito_code) for e in d.comune_ente.values()}:
        counts[ambito] = counts.get(ambito, 0) + 1
    return counts


_PARTS = {
    "users": lambda d, conn: {u.username: u for u in users.users(conn)},
    "comune_area": lambda d, conn: reference.sub_ambito_map(conn),
    "comune_name": lambda d, conn: reference.comune_names(conn),
    "coordinator_email": lambda d, conn: reference.coordinator_emails(conn),
    "providers": lambda d, conn: {p.codice: p for p in reference.providers(conn)},
    "district": lambda d, conn: reference.district(conn),  # the default Ambito
    "ambiti": lambda d, conn: {a.code: a for a in reference.ambiti(conn)},
    "comune_ambito": lambda d, conn: reference.ambito_of_comuni(conn),
    "comune_ente": lambda d, conn: reference.ente_gestore_of_comuni(conn),
    "enti_per_ambito": _enti_per_ambito,
}
