"""The engine's `World` over the store: facts beyond the case, read lazily on the same connection."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.engine import CaseView, ProviderView, UserView
from domain.errors import NotFound
from domain.workflow import Role
from store.cases import load_case
from store.tables import AppUser, Provider, case_t

COMMITTED_STATES = ("FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW", "CLOSED")


_USER = sa.select(AppUser.__table__).where(AppUser.__table__.c.username == sa.bindparam("username"),
                                           AppUser.__table__.c.active.is_(True))


class StoreWorld:
    def __init__(self, conn: Connection, sub_ambiti: dict[str, str]):
        self.conn = conn
        self._sub_ambiti = sub_ambiti
        self._users: dict[str, UserView | None] = {}  # one lookup per unit of work (guards and handlers share it)

    def case(self, case_id: int) -> CaseView | None:
        try:
            return load_case(self.conn, case_id)
        except NotFound:
            return None

    def user(self, username: str) -> UserView | None:
        if username not in self._users:
            row = self.conn.execute(_USER, {"username": username}).first()
            self._users[username] = None if row is None else UserView(
                row.username, Role(row.role), row.sub_ambito, row.provider_codice, row.email)
        return self._users[username]

    def provider(self, codice: str) -> ProviderView | None:
        p = Provider.__table__
        row = self.conn.execute(sa.select(p).where(p.c.codice == codice)).first()
        if row is None:
            return None
        adhesion = self.conn.execute(
            sa.select(case_t.c.state, case_t.c.data)
            .where(case_t.c.case_type == "sad_adesione", case_t.c.provider_codice == codice)
            .order_by(case_t.c.id.desc())
            .limit(1)
        ).first()
        comuni = (adhesion.data or {}).get("comuni") if adhesion else None
        return ProviderView(
            codice=row.codice,
            nome=row.nome,
            comuni=frozenset(comuni or row.comuni),
            adhesion_state=adhesion.state if adhesion else None,
            email=row.email,
        )

    def sub_ambito_of(self, comune_istat: str) -> str | None:
        return self._sub_ambiti.get(comune_istat)

    def committed_on_call(self, call_id: int) -> Decimal:
        rows = self.conn.execute(
            sa.select(case_t.c.data).where(
                case_t.c.case_type == "fna_domanda",
                case_t.c.related_case_id == call_id,
                case_t.c.state.in_(COMMITTED_STATES),
            )
        ).scalars()
        return sum((Decimal(str(d.get("importo_annuo", 0))) for d in rows), Decimal(0))
