"""The engine's `World` over the store: facts beyond the case, read lazily on the same connection.

Every read runs on the hot path's DBAPI cursor (store/cases.py), so the world works on a Core
`Connection` as well as on the store's `UnitOfWork` (CaseService.advance), inside its transaction.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Connection

from domain.engine import CaseView, ProviderView, UserView
from domain.errors import NotFound
from domain.person import PersonCase
from store import persons
from store import cases as repo
from store.cases import COMMITTED_STATES, UnitOfWork  # noqa: F401  (COMMITTED_STATES re-exported)


class StoreWorld:
    def __init__(self, conn: Connection | UnitOfWork, sub_ambiti: dict[str, str]):
        self.conn = conn
        self._sub_ambiti = sub_ambiti
        self._users: dict[str, UserView | None] = {}  # one lookup per unit of work (guards and handlers share it)

    def case(self, case_id: int) -> CaseView | None:
        try:
            return repo.load_case(self.conn, case_id)
        except NotFound:
            return None

    def user(self, username: str) -> UserView | None:
        try:
            return self._users[username]
        except KeyError:
            user = self._users[username] = repo.load_user(self.conn, username)
            return user

    def provider(self, codice: str) -> ProviderView | None:
        return repo.load_provider(self.conn, codice)

    def sub_ambito_of(self, comune_istat: str) -> str | None:
        return self._sub_ambiti.get(comune_istat)

    def committed_on_call(self, call_id: int) -> Decimal:
        return repo.committed_on_call(self.conn, call_id)

    def related_cases(self, case_id: int, case_type: str) -> list[CaseView]:
        return repo.load_related_cases(self.conn, case_id, case_type)

    def cases_of_person(self, codice_fiscale: str) -> list[PersonCase]:
        """Every case of the person with this code, each open or not by its type's declaration (DOMAIN.md §13)."""
        out = []
        for case_id, case_type, state, measure in persons.person_cases(self.conn, codice_fiscale):
            wf = find_workflow(case_type)
            closed = wf is None or any(st.name == state and st.terminal for st in wf.states)
            out.append(PersonCase(case_id, case_type, state, not closed, measure))
        return out


def find_workflow(case_type: str):
    from domain.registry import find_case_type

    ct = find_case_type(case_type)
    return ct.workflow if ct is not None else None
