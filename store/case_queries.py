"""The case read side's SQL: one case with its history, deadlines, person and comune; the filtered list; a case's
deadlines and state; the open deadlines within a scope. services/queries.py and services/api_queries.py shape
what these return for pages, the API and the CLI.

`scope` arguments are SQL conditions over `case_file` from services.access (the one access decision).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import date
from typing import Any

import sqlalchemy as sa

from domain.engine import CaseView
from store import health_store
from store.ambito_filter import deadline_in_ambito
from store.cases import load_case
from store.sealed import merge
from store.tables import Comune, Person, case_t, deadline_t, health_data_t, transition_t
from store.uow import Bind, reading

comune_t = Comune.__table__
person_t = Person.__table__
OPEN_DEADLINE = "open"


@dataclass(frozen=True)
class CaseFilter:
    case_type: str | None = None
    state: str | None = None
    comune: str | None = None
    sub_ambito: str | None = None
    overdue: bool = False
    owner: str | None = None
    limit: int = 200
    by_due: bool = False  # people's cases first, the nearest (or most overdue) deadline first; else by id
    after: "ListKey | None" = None  # keyset paging: the rows after this one, in the list's order
    before: "ListKey | None" = None  # or the rows just before this one (the previous page), still in order


NO_DUE = date(9999, 12, 31)  # a case with no open deadline sorts after every due date


@dataclass(frozen=True)
class ListKey:
    """Where a page of the list ends, in its order: (cases without a person last, nearest due first, id).
    As text (in a page's link) `0.2026-05-01.1234`; a list ordered by id uses only the id."""

    no_person: int
    due: date
    id: int

    def text(self) -> str:
        return f"{self.no_person}.{self.due.isoformat()}.{self.id}"

    @classmethod
    def of_id(cls, ident: int) -> "ListKey":
        """The key after case `ident` in a list ordered by id (the API's)."""
        return cls(0, NO_DUE, ident)

    @classmethod
    def parse(cls, text: str) -> "ListKey | None":
        """The key in a link, or None if the text is not one (a hand-edited link starts from the top)."""
        try:
            no_person, due, ident = text.split(".")
            key = cls(int(no_person), date.fromisoformat(due), int(ident))
        except ValueError:
            return None
        return key if key.no_person in (0, 1) and 0 < key.id < 2**63 else None


@dataclass(frozen=True)
class CaseRecord:
    case: CaseView
    history: list[Any]  # case_transition rows by seq
    deadlines: list[Any]  # deadline rows by due, id
    person: Any | None
    comune: Any | None
    outcome: str | None
    outcome_reason: str | None
    sealed_unread: bool = False  # health data is stored for this case but was not read (health=False)


_HISTORY = (sa.select(transition_t).where(transition_t.c.case_id == sa.bindparam("case_id"))
            .order_by(transition_t.c.seq))
_DEADLINES = (sa.select(deadline_t).where(deadline_t.c.case_id == sa.bindparam("case_id"))
              .order_by(deadline_t.c.due, deadline_t.c.id))
# what the detail shows besides the case itself, in one statement: outcome, person, comune, and whether any
# sealed health part is stored (said to a reader who may not see it)
_AROUND = (
    sa.select(case_t.c.outcome, case_t.c.outcome_reason, person_t.c.id.label("person_id"), person_t.c.cognome,
              person_t.c.nome, person_t.c.codice_fiscale, person_t.c.data_nascita, comune_t.c.istat,
              comune_t.c.nome.label("comune_nome"), comune_t.c.sub_ambito,
              sa.exists().where(health_data_t.c.case_id == case_t.c.id).label("sealed"))
    .select_from(case_t.outerjoin(person_t, person_t.c.id == case_t.c.person_id)
                 .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
    .where(case_t.c.id == sa.bindparam("case_id"))
)


def case_record(bind: Bind, case_id: int, *, health: bool = True) -> CaseRecord:
    """Everything stored about one case, read on one connection; NotFound (from load_case) if there is none.
    With `health` (a reader the access module lets see health data) the sealed health parts are decrypted
    back into the case's and each step's data; without, they are not read at all."""
    key = {"case_id": case_id}
    with reading(bind) as conn:
        case = load_case(conn, case_id, health=health)
        history = conn.execute(_HISTORY, key).all()
        around = conn.execute(_AROUND, key).one()
        if health and around.sealed and (parts := health_store.steps_of_case(conn, case_id)):
            history = [_with_health(h, parts.get(h.seq)) for h in history]
        deadlines = conn.execute(_DEADLINES, key).all()
    person = None if around.person_id is None else SimpleNamespace(
        id=around.person_id, cognome=around.cognome, nome=around.nome, codice_fiscale=around.codice_fiscale,
        data_nascita=around.data_nascita)
    comune = None if around.istat is None or not case.comune_istat else SimpleNamespace(
        istat=around.istat, nome=around.comune_nome, sub_ambito=around.sub_ambito)
    return CaseRecord(case, history, deadlines, person, comune, around.outcome, around.outcome_reason,
                      not health and bool(around.sealed))


def _with_health(row: Any, part: dict[str, Any] | None) -> Any:
    if not part:
        return row
    values = dict(row._mapping)
    values["data"] = merge(values["data"], part)
    return SimpleNamespace(**values)


def case_deadlines(bind: Bind, case_id: int) -> list[Any]:
    """A case's deadline rows, earliest first."""
    with reading(bind) as conn:
        return _deadlines(conn, case_id)


def _deadlines(conn: Any, case_id: int) -> list[Any]:
    return conn.execute(_DEADLINES, {"case_id": case_id}).all()


def case_state(bind: Bind, case_id: int) -> Any | None:
    """(case_type, state, version) of a case, or None."""
    with reading(bind) as conn:
        return conn.execute(_CASE_STATE, {"case_id": case_id}).first()


_CASE_STATE = sa.select(case_t.c.case_type, case_t.c.state, case_t.c.version).where(
    case_t.c.id == sa.bindparam("case_id"))


LATERAL_UP_TO = 20_000
"""The most cases a list orders by a lateral lookup each (PostgreSQL); above it one grouped pass is cheaper."""


def _next_due(dialect: str, listed: int | None = None) -> tuple[Any, sa.ColumnElement[bool]]:
    """Each listed case's nearest open deadline, and the join's condition. On PostgreSQL, for a list of at most
    `LATERAL_UP_TO` cases (`listed`: how many match, when counted), a lateral lookup per case (the (case_id,
    status) index): its cost follows the cases the list reads, not the instance's deadlines; grouping every open
    deadline first read all 400,000 cases' to order one Ambito's 1,000 (8-13x slower than in a one-Ambito
    instance). A longer list (a planning office's 100,000 cases) is ordered from one grouped pass: 100,000 lookups
    cost ~2x the pass. SQLite (no LATERAL; one small instance): the grouped pass."""
    open_ = deadline_t.c.status == OPEN_DEADLINE
    if dialect == "postgresql" and (listed is None or listed <= LATERAL_UP_TO):
        return (sa.select(sa.func.min(deadline_t.c.due).label("due"))
                .where(deadline_t.c.case_id == case_t.c.id, open_).lateral("next_due")), sa.true()
    nd = (sa.select(deadline_t.c.case_id, sa.func.min(deadline_t.c.due).label("due"))
          .where(open_).group_by(deadline_t.c.case_id).subquery("next_due"))
    return nd, nd.c.case_id == case_t.c.id


def _filtered(q: Any, f: CaseFilter, *, today: date, scope: sa.ColumnElement[bool] | None) -> Any:
    c = comune_t
    if scope is not None:
        q = q.where(scope)
    if f.case_type:
        q = q.where(case_t.c.case_type == f.case_type)
    if f.state:
        q = q.where(case_t.c.state == f.state)
    if f.comune:
        q = q.where(sa.or_(case_t.c.comune_istat == f.comune, sa.func.lower(c.c.nome) == f.comune.lower()))
    if f.sub_ambito:
        q = q.where(sa.func.lower(c.c.sub_ambito) == f.sub_ambito.lower())
    if f.owner:
        q = q.where(case_t.c.owner == f.owner)
    if f.overdue:
        q = q.where(sa.exists().where(deadline_t.c.case_id == case_t.c.id, deadline_t.c.status == OPEN_DEADLINE,
                                      deadline_t.c.due < today))
    return q


def case_rows(bind: Bind, f: CaseFilter, *, today: date, scope: sa.ColumnElement[bool] | None = None,
              listed: int | None = None) -> list[Any]:
    """The cases matching `f` (id, case_type, kind, state, comune_istat, comune, sub_ambito, owner, opened_at,
    prossima_scadenza, senza_persona), within `scope` when given; at most `f.limit`, after `f.after`. `listed`:
    how many cases match (`case_count`), when known: it chooses how the nearest deadlines are read."""
    with reading(bind) as conn:
        q = _case_list(f, today=today, scope=scope, dialect=conn.dialect.name, listed=listed)
        rows = conn.execute(q).all()
    return rows[::-1] if f.before is not None and f.after is None else rows


def _case_list(f: CaseFilter, *, today: date, scope: sa.ColumnElement[bool] | None, dialect: str,
               listed: int | None = None) -> Any:
    c = comune_t
    nd, on = _next_due(dialect, listed)
    no_person = sa.case((case_t.c.person_id.is_(None), 1), else_=0)
    due = sa.func.coalesce(nd.c.due, NO_DUE)
    order = (no_person, due, case_t.c.id) if f.by_due else (case_t.c.id,)
    backwards = f.before is not None and f.after is None
    q = (
        sa.select(case_t.c.id, case_t.c.case_type, case_t.c.kind, case_t.c.state, case_t.c.comune_istat,
                  c.c.nome.label("comune"), c.c.sub_ambito, case_t.c.owner, case_t.c.opened_at,
                  nd.c.due.label("prossima_scadenza"), no_person.label("senza_persona"))
        .select_from(case_t.outerjoin(c, c.c.istat == case_t.c.comune_istat)
                     .outerjoin(nd, on))
        .order_by(*(o.desc() for o in order) if backwards else order)
        .limit(f.limit)
    )
    if (k := f.after if not backwards else f.before) is not None:
        beyond = (lambda a, b: a < b) if backwards else (lambda a, b: a > b)
        if f.by_due:
            q = q.where(sa.or_(beyond(no_person, k.no_person),
                               sa.and_(no_person == k.no_person, beyond(due, k.due)),
                               sa.and_(no_person == k.no_person, due == k.due, beyond(case_t.c.id, k.id))))
        else:
            q = q.where(beyond(case_t.c.id, k.id))
    return _filtered(q, f, today=today, scope=scope)


def case_count(bind: Bind, f: CaseFilter, *, today: date, scope: sa.ColumnElement[bool] | None = None) -> int:
    """How many cases match `f` within `scope`, all pages together."""
    q = sa.select(sa.func.count()).select_from(case_t.outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
    with reading(bind) as conn:
        return conn.execute(_filtered(q, f, today=today, scope=scope)).scalar_one()


def list_key(row: Any) -> ListKey:
    """The key of a row of `case_rows`, to ask for the rows after it."""
    return ListKey(row.senza_persona, row.prossima_scadenza or NO_DUE, row.id)


def open_deadline_rows(bind: Bind, scope: sa.ColumnElement[bool], *, until: date, limit: int | None,
                       owner_or_unassigned_in: tuple[str | tuple[str, ...], Iterable[str]] | None = None,
                       ambito: Any = None) -> list[Any]:
    """Open deadlines due by `until` of the cases in `scope`, earliest first (id, case_id, kind, label, due,
    source, case_type, state, owner, comune); `owner_or_unassigned_in` = (username, comuni) keeps only the cases
    assigned to that user or unassigned in those comuni; `ambito` (the reader's AmbitoScope) reads the deadlines
    by their own Ambito column (store/ambito_filter.py), the same rows as the scope's tenancy gate."""
    q = (
        sa.select(deadline_t.c.id, deadline_t.c.case_id, deadline_t.c.kind, deadline_t.c.label, deadline_t.c.due,
                  deadline_t.c.source, case_t.c.case_type, case_t.c.state, case_t.c.owner,
                  comune_t.c.nome.label("comune"))
        .select_from(deadline_t.join(case_t, case_t.c.id == deadline_t.c.case_id)
                     .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat))
        .where(deadline_in_ambito(ambito), deadline_t.c.status == OPEN_DEADLINE, deadline_t.c.due <= until, scope)
        .order_by(deadline_t.c.due, deadline_t.c.id)
        .limit(limit)  # None: no limit
    )
    if owner_or_unassigned_in is not None:
        owners, comuni = owner_or_unassigned_in
        q = q.where(sa.or_(case_t.c.owner.in_([owners] if isinstance(owners, str) else list(owners)),
                           sa.and_(case_t.c.owner.is_(None), case_t.c.comune_istat.in_(sorted(comuni)))))
    with reading(bind) as conn:
        return conn.execute(q).all()
