"""The case repository: the hot path of every transition.

One advance = SELECT the case, UPDATE it guarded by its version, INSERT the audit row,
UPDATE/INSERT its deadlines, INSERT any outbox rows; all on one connection, one commit,
made by the caller's unit of work. These statements run on the DBAPI cursor of the caller's
SQLAlchemy connection (see "the hot path" below); everything else stays in Core.
"""
from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

from domain.engine import Actor, CaseView, Decision, ProviderView, UserView
from domain.errors import ConflictError, NotFound, StateWriteForbidden
from domain.workflow import Role
from store.tables import Case, case_t, person_t

ROME = ZoneInfo("Europe/Rome")


@event.listens_for(Case.state, "set", propagate=True)
def _state_is_written_only_by_transitions(target, value, oldvalue, initiator) -> None:
    if oldvalue not in (NO_VALUE, NEVER_SET, None) and value != oldvalue:
        raise StateWriteForbidden("lo stato di un caso cambia solo con una transizione")


# ------------------------------------------------------------------ the hot path on the DBAPI cursor
#
# A transition's statements (load, guarded UPDATE, audit INSERT, deadline UPDATE/INSERT, outbox INSERT)
# run on the DBAPI cursor of the caller's SQLAlchemy connection: same connection, same transaction, commit
# and rollback still made by the caller's unit of work. Core costs ~110 us of client CPU per statement on
# top of the driver, more than the rest of a transition (bench/transitions.py, bench/RESULTS.md). The SQL
# text is fixed per shape (so psycopg prepares it after a few executions) and the values are adapted here
# as the Core types would (UTC instants; on SQLite SQLAlchemy's DATETIME/DATE text). JSON is written with
# orjson on both databases: the same values as json.dumps (what orjson would take differently goes through
# json.dumps), in compact UTF-8 text on SQLite where Core writes json.dumps's ASCII text; both read the same.
# Driver errors are re-raised as SQLAlchemy's (IntegrityError, DBAPIError ...), as Core would.


try:  # a dependency of prefect, so normally present: ~10x faster than json.dumps on a case's data
    import orjson

    _ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def _not_json(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    def _dumps(value: Any) -> Any:
        """JSON for a jsonb parameter (PostgreSQL normalises it, so the spacing does not matter). Whatever
        orjson will not take (or takes differently: dates, big integers) goes through json.dumps, as in Core."""
        try:
            return orjson.dumps(value, default=_not_json, option=_ORJSON_OPTIONS)
        except TypeError:
            return json.dumps(value)
    def _loads(text: str | bytes) -> Any:
        """JSON text as json.loads reads it, ~2x faster; what orjson refuses (NaN, integers beyond 64 bits,
        lone surrogates: all accepted by json.loads) goes through json.loads."""
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return json.loads(text)
except ImportError:  # pragma: no cover
    _dumps = json.dumps
    _loads = json.loads


class _Sql:
    """The hot path's SQL text and value adapters for one DBAPI paramstyle."""

    def __init__(self, name: str, p: str, true: str):
        self.name, self.p = name, p
        self.select_case = (
            "SELECT case_file.id, case_file.case_type, case_file.kind, case_file.state, case_file.comune_istat, "
            "case_file.owner, case_file.opened_at, case_file.state_since, case_file.policy_version, "
            "case_file.data, case_file.version, case_file.related_case_id, case_file.provider_codice, "
            "person.codice_fiscale, person.data_nascita FROM case_file LEFT OUTER JOIN person "
            f"ON person.id = case_file.person_id WHERE case_file.id = {p}"
        )
        self.select_user = (
            "SELECT app_user.username, app_user.role, app_user.sub_ambito, app_user.provider_codice, "
            f"app_user.email FROM app_user WHERE app_user.username = {p} AND app_user.active {true}"
        )
        self.insert_audit = (
            "INSERT INTO case_transition (case_id, seq, transition, from_state, to_state, actor, actor_role, "
            "recorded_at, effective_at, effective_on, reason, data) VALUES "
            f"({', '.join([p] * 12)})"
        )
        self.cancel = (f"UPDATE deadline SET status='cancelled', closed_on={p} WHERE deadline.case_id = {p} "
                       "AND deadline.status IN ('open', 'paused')")
        self.pause = (f"UPDATE deadline SET status='paused' WHERE deadline.case_id = {p} "
                      "AND deadline.status = 'open'")
        self.select_paused = (f"SELECT deadline.id, deadline.due, deadline.suspended_days FROM deadline "
                              f"WHERE deadline.case_id = {p} AND deadline.status = {p}")
        self.resume = (f"UPDATE deadline SET status={p}, due={p}, suspended_days={p} WHERE deadline.id = {p}")
        self.select_provider = f"SELECT provider.codice, provider.nome, provider.comuni, provider.email " \
                               f"FROM provider WHERE provider.codice = {p}"
        self.select_adhesion = (f"SELECT case_file.state, case_file.data FROM case_file WHERE case_file.case_type = {p} "
                                f"AND case_file.provider_codice = {p} ORDER BY case_file.id DESC LIMIT 1")
        self.select_committed = (f"SELECT case_file.data FROM case_file WHERE case_file.case_type = {p} AND "
                                 f"case_file.related_case_id = {p} AND case_file.state IN ({', '.join([p] * 6)})")
        self._updates: dict[tuple[str, ...], str] = {}
        self._met: dict[int, str] = {}
        self._deadlines: dict[int, str] = {}
        self._outbox: dict[int, str] = {}

    def update_case(self, columns: tuple[str, ...]) -> str:
        """The guarded UPDATE of these columns (in table order), version + 1, WHERE id AND version."""
        sql = self._updates.get(columns)
        if sql is None:
            sets = "".join(f"{c}={self.p}, " for c in columns)
            sql = self._updates[columns] = (
                f"UPDATE case_file SET {sets}version=(case_file.version + 1) "
                f"WHERE case_file.id = {self.p} AND case_file.version = {self.p}"
            )
        return sql

    def close_deadlines(self, n_kinds: int) -> str:
        sql = self._met.get(n_kinds)
        if sql is None:
            sql = self._met[n_kinds] = (
                f"UPDATE deadline SET status={self.p}, closed_on={self.p} WHERE deadline.case_id = {self.p} "
                f"AND deadline.status IN ('open', 'paused') AND deadline.kind IN ({', '.join([self.p] * n_kinds)})"
            )
        return sql

    def insert_deadlines(self, n: int) -> str:
        sql = self._deadlines.get(n)
        if sql is None:
            row = f"({', '.join([self.p] * 8)}, 0)"
            sql = self._deadlines[n] = (
                "INSERT INTO deadline (case_id, kind, label, due, basis, source, status, started_seq, "
                f"suspended_days) VALUES {', '.join([row] * n)}"
            )
        return sql

    def insert_outbox(self, n: int) -> str:
        sql = self._outbox.get(n)
        if sql is None:
            row = f"({', '.join([self.p] * 10)})"
            sql = self._outbox[n] = (
                "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, "
                f"status, attempts, next_attempt_at) VALUES {', '.join([row] * n)}"
            )
        return sql

    # values in: instants are UTC (see _utc)
    def ts(self, value: datetime | None) -> Any:
        return value

    def day(self, value: date | None) -> Any:
        return value

    def json(self, value: Any) -> Any:
        return Jsonb(value, dumps=_dumps)

    # values out
    def read_instant(self, value: Any) -> datetime:
        """An instant read back, aware (stored in UTC)."""
        return _aware(value)

    def read_day(self, value: Any) -> date | None:
        return value

    def read_json(self, value: Any) -> Any:
        return value


class _SqliteSql(_Sql):
    """SQLite keeps what SQLAlchemy's SQLite types write: DATETIME/DATE as text, JSON as text."""

    def ts(self, value: datetime | None) -> Any:
        """'YYYY-MM-DD HH:MM:SS.ffffff' of a UTC instant (the offset is not stored), as SQLAlchemy writes it
        (%-formatting: 0.7 us where format specs in an f-string took 1.8 us)."""
        if value is None:
            return None
        return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (value.year, value.month, value.day, value.hour, value.minute,
                                                       value.second, value.microsecond)

    def day(self, value: date | None) -> Any:
        if type(value) is date:
            return value.isoformat()  # 'YYYY-MM-DD', as SQLAlchemy writes it
        return None if value is None else f"{value.year:04d}-{value.month:02d}-{value.day:02d}"

    def json(self, value: Any) -> Any:
        text = _dumps(value)  # ~8x faster than json.dumps on a case's data (bench/RESULTS.md)
        return text.decode() if type(text) is bytes else text  # TEXT, not a BLOB: SQLite's JSON functions read it

    def read_instant(self, value: Any) -> datetime:
        """SQLAlchemy's text of a UTC instant, aware: parsed with its offset (0.15 us where parsing and then
        replace(tzinfo=...) took 0.9 us); text that already carries an offset keeps it."""
        if type(value) is str:
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                value = datetime.fromisoformat(value)
        return _aware(value)

    def read_day(self, value: Any) -> date | None:
        return value if value is None or isinstance(value, date) else date.fromisoformat(value)

    def read_json(self, value: Any) -> Any:
        return None if value is None else _loads(value)


_SQL = {"postgresql": _Sql("postgresql", "%s", "IS true"), "sqlite": _SqliteSql("sqlite", "?", "= 1")}


class _Cursor:
    """A DBAPI cursor of an SQLAlchemy connection or unit of work; errors come out as SQLAlchemy's, as from Core."""

    __slots__ = ("conn_ref", "cur", "dbapi_conn", "dialect", "sql")

    def __init__(self, conn: Connection | UnitOfWork):
        self.conn_ref = weakref.ref(conn)  # the connection keeps this cursor: no reference cycle
        self.dialect = conn.dialect
        self.sql: _Sql = _SQL[conn.dialect.name]
        self.dbapi_conn = conn.dbapi_connection if type(conn) is UnitOfWork else conn.connection.dbapi_connection
        self.cur = self.dbapi_conn.cursor()

    def execute(self, statement: str, params: Sequence[Any]) -> Any:
        try:
            self.cur.execute(statement, params)
        except Exception as err:
            raise self._wrapped(statement, params, err) from err
        return self.cur

    def fetch_one(self, statement: str, params: Sequence[Any]) -> Any:
        rows = self.execute(statement, params).fetchall()  # fetch all: SQLite resets the statement (no lock kept)
        return rows[0] if rows else None

    def fetch_all(self, statement: str, params: Sequence[Any]) -> list[Any]:
        return self.execute(statement, params).fetchall()

    def _wrapped(self, statement: str, params: Sequence[Any], err: Exception) -> Exception:
        """What Core would raise: the driver's error wrapped (IntegrityError ...), a lost connection invalidated."""
        return _wrap_dbapi_error(self.dialect, self.conn_ref(), self.dbapi_conn, self.cur, statement, params, err)


def _wrap_dbapi_error(dialect: Any, owner: Connection | UnitOfWork | None, dbapi_conn: Any, cur: Any,
                      statement: str, params: Any, err: Exception) -> Exception:
    dbapi_error = dialect.loaded_dbapi.Error
    if not isinstance(err, dbapi_error):
        return err
    invalidated = dialect.is_disconnect(err, dbapi_conn, cur)
    if invalidated and owner is not None:
        owner.invalidate(err)
    return sa.exc.DBAPIError.instance(statement, params, err, dbapi_error,
                                      connection_invalidated=invalidated, dialect=dialect)


class UnitOfWork:
    """One transition's unit of work on a pooled DBAPI connection, without a Core `Connection`.

    `Engine.raw_connection()` (documented: a DBAPI connection proxied by the engine's pool) is checked out
    for the block and given back to the pool at its end (the pool's reset on return still runs). The
    driver opens the transaction with the first statement (psycopg, sqlite3: not autocommit, as under
    Core); the block commits on success and rolls back on any exception, so state, audit row, deadlines
    and outbox stay atomic. Every statement runs on the hot path's cursor (`_cursor`), errors come out as
    SQLAlchemy's and a lost connection is invalidated, as from Core. Saves the Core Connection, its
    transaction object and commit bookkeeping (~40 us of client CPU per transition, bench/RESULTS.md).
    Only the store's cursor functions accept it (load_case, apply_decision, load_user, load_provider,
    committed_on_call, resume_paused_deadlines, insert_outbox); anything needing Core uses engine.begin().
    """

    __slots__ = ("__weakref__", "_hot", "dbapi_connection", "dialect", "fairy")

    def __init__(self, engine: sa.engine.Engine):
        self.dialect = engine.dialect
        self.fairy = engine.raw_connection()
        self.dbapi_connection = self.fairy.dbapi_connection
        self._hot: _Cursor | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self._rollback_quietly()
        finally:
            self.close()

    def cursor(self) -> _Cursor:
        hot = self._hot
        if hot is None:
            hot = self._hot = _Cursor(self)
        return hot

    def commit(self) -> None:
        try:
            self.dbapi_connection.commit()
        except Exception as err:
            wrapped = _wrap_dbapi_error(self.dialect, self, self.dbapi_connection, None, "COMMIT", (), err)
            self._rollback_quietly()  # nothing left if the connection was lost (then already invalidated)
            raise wrapped from err

    def _rollback_quietly(self) -> None:
        """Roll back after an error; a connection that cannot even roll back is invalidated (not pooled)."""
        if self.dbapi_connection is None:  # already invalidated
            return
        try:
            self.dbapi_connection.rollback()
        except Exception as err:  # noqa: BLE001 - any failure: the connection is not fit for the pool
            self.invalidate(err)

    def invalidate(self, err: BaseException | None = None) -> None:
        if self.dbapi_connection is not None:
            self.dbapi_connection = None
            self.fairy.invalidate(err)

    def close(self) -> None:
        if self._hot is not None and self.dbapi_connection is not None:
            self._hot.cur.close()
        self._hot = None
        self.fairy.close()


def _cursor(conn: Connection | UnitOfWork) -> _Cursor:
    """The hot path's cursor for this connection (one per Connection object), inside its transaction."""
    if type(conn) is UnitOfWork:
        return conn.cursor()
    if not conn.in_transaction():
        conn.begin()  # what Core's autobegin would do: the caller's commit() then covers these statements
    hot = conn.__dict__.get("_legami_cursor")
    if hot is None or hot.dbapi_conn is not conn.connection.dbapi_connection:  # first use, or reconnected
        hot = conn.__dict__["_legami_cursor"] = _Cursor(conn)
    return hot


def load_case(conn: Connection | UnitOfWork, case_id: int) -> CaseView:
    cur = _cursor(conn)
    row = cur.fetch_one(cur.sql.select_case, (case_id,))
    if row is None:
        raise NotFound(f"caso {case_id} inesistente")
    return _row_to_view(cur.sql, row)


def _row_to_view(sql: _Sql, row: Sequence[Any]) -> CaseView:
    (id_, case_type, kind, state, comune, owner, opened_at, state_since, policy_version, data, version,
     related, provider, codice_fiscale, data_nascita) = row
    person = {"codice_fiscale": codice_fiscale, "data_nascita": sql.read_day(data_nascita)} if codice_fiscale else None
    return CaseView(
        id=id_,
        case_type=case_type,
        kind=kind,
        state=state,
        comune_istat=comune,
        owner=owner,
        opened_on=sql.read_instant(opened_at).astimezone(ROME).date(),
        state_since=sql.read_instant(state_since),
        policy_version=policy_version,
        data=sql.read_json(data) or {},
        version=version,
        related_case_id=related,
        provider_codice=provider,
        person=person,
    )


def load_user(conn: Connection | UnitOfWork, username: str) -> UserView | None:
    """An active user, as the guards and handlers see it (None if missing or deactivated)."""
    cur = _cursor(conn)
    row = cur.fetch_one(cur.sql.select_user, (username,))
    return None if row is None else UserView(row[0], Role(row[1]), row[2], row[3], row[4])


def load_provider(conn: Connection | UnitOfWork, codice: str) -> ProviderView | None:
    """A provider with the comuni of its latest SAD adhesion case (its own list if it has none)."""
    cur = _cursor(conn)
    sql = cur.sql
    row = cur.fetch_one(sql.select_provider, (codice,))
    if row is None:
        return None
    codice_, nome, comuni, email = row
    adhesion = cur.fetch_one(sql.select_adhesion, ("sad_adesione", codice))
    adhesion_state, adhesion_data = (adhesion[0], sql.read_json(adhesion[1])) if adhesion else (None, None)
    chosen = (adhesion_data or {}).get("comuni") if adhesion else None
    return ProviderView(
        codice=codice_,
        nome=nome,
        comuni=frozenset(chosen or sql.read_json(comuni)),
        adhesion_state=adhesion_state,
        email=email,
    )


COMMITTED_STATES = ("FUNDED", "PLAN_SIGNED", "DISBURSING", "SUSPENDED", "UNDER_REVIEW", "CLOSED")


def committed_on_call(conn: Connection | UnitOfWork, call_id: int) -> Decimal:
    """The yearly amounts of an FNA call's applications in a committed state."""
    cur = _cursor(conn)
    sql = cur.sql
    rows = cur.fetch_all(sql.select_committed, ("fna_domanda", call_id, *COMMITTED_STATES))
    return sum((Decimal(str((sql.read_json(d) or {}).get("importo_annuo", 0))) for (d,) in rows), Decimal(0))


def _utc(value: datetime) -> datetime:
    """Every instant is stored in UTC (SQLite keeps no offset); dates are the caller's (Rome) dates."""
    return value.astimezone(timezone.utc)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def insert_case(
    conn: Connection,
    *,
    decision: Decision,
    view: CaseView,
    actor: Actor,
    recorded_at: datetime,
    person_id: int | None,
) -> int:
    case_id = conn.execute(
        case_t.insert().returning(case_t.c.id),
        {
            "case_type": view.case_type,
            "kind": decision.kind,
            "state": decision.to_state,
            "comune_istat": view.comune_istat,
            "person_id": person_id,
            "owner": decision.owner,
            "related_case_id": view.related_case_id,
            "provider_codice": decision.provider_codice,
            "policy_version": view.policy_version,
            "opened_at": _utc(decision.effective_at),
            "state_since": _utc(decision.effective_at),
            "data": decision.case_data,
            "version": 1,
        },
    ).scalar_one()
    cur = _cursor(conn)
    _insert_audit(cur, case_id, 1, decision, actor, recorded_at)
    _insert_deadlines(cur, case_id, 1, decision)
    return case_id


def apply_decision(
    conn: Connection | UnitOfWork, *, case: CaseView, decision: Decision, actor: Actor, recorded_at: datetime
) -> int:
    """Persist an advance; raises ConflictError if the case moved since it was read."""
    cur = _cursor(conn)
    effective_utc = _utc(decision.effective_at)
    _update_case(cur, case, decision, effective_utc)
    seq = case.version + 1
    _insert_audit(cur, case.id, seq, decision, actor, recorded_at, effective_utc)
    _update_deadlines(cur, case.id, decision)
    _insert_deadlines(cur, case.id, seq, decision)
    return seq


def _update_case(cur: _Cursor, case: CaseView, d: Decision, effective_utc: datetime) -> None:
    """UPDATE case_file guarded by the version the decision was taken on (optimistic concurrency)."""
    sql = cur.sql
    # the columns in table order, as Core would write them
    columns: list[str] = []
    values: list[Any] = []
    if d.kind is not None:
        columns.append("kind")
        values.append(d.kind)
    columns.append("state")
    values.append(d.to_state)
    if d.owner is not None:
        columns.append("owner")
        values.append(d.owner)
    if d.provider_codice is not None:
        columns.append("provider_codice")
        values.append(d.provider_codice)
    columns.append("state_since")
    values.append(sql.ts(effective_utc))
    if d.outcome is not None:
        columns += ("outcome", "outcome_reason")
        values += (d.outcome.value, d.outcome_reason)
    if d.transition.merge_data and d.case_data != case.data:  # a step that adds nothing leaves the data as is
        columns.append("data")
        values.append(sql.json(d.case_data))
    result = cur.execute(sql.update_case(tuple(columns)), (*values, case.id, case.version))
    if result.rowcount != 1:
        raise ConflictError(
            f"il caso {case.id} è stato modificato da un altro utente nel frattempo: ricaricare e riprovare"
        )


_ROLE_VALUES = {role: role.value for role in Role}  # Enum.value is a descriptor call: ~1 us each time


def _insert_audit(cur: _Cursor, case_id: int, seq: int, d: Decision, actor: Actor, recorded_at: datetime,
                  effective_utc: datetime | None = None) -> None:
    sql = cur.sql
    if effective_utc is None:
        effective_utc = _utc(d.effective_at)
    cur.execute(sql.insert_audit, (
        case_id, seq, d.transition.name, d.from_state, d.to_state, actor.username, _ROLE_VALUES[actor.role],
        sql.ts(_utc(recorded_at)), sql.ts(effective_utc), sql.day(d.effective_at.astimezone(ROME).date()),
        d.reason, sql.json(d.data),
    ))


def _update_deadlines(cur: _Cursor, case_id: int, d: Decision) -> None:
    sql = cur.sql
    on = sql.day(d.effective_at.date())
    for status, kinds in (("met", d.met), ("expired", d.expired)):
        if kinds:
            cur.execute(sql.close_deadlines(len(kinds)), (status, on, case_id, *kinds))
    if d.cancel_open_deadlines:
        cur.execute(sql.cancel, (on, case_id))
    if d.pause_deadlines:
        cur.execute(sql.pause, (case_id,))


def resume_paused_deadlines(
    conn: Connection | UnitOfWork, case_id: int, shift_days: int, roll: Callable[[date], date]
) -> None:
    """The clock stopped while suspended: move each paused deadline on by the days suspended."""
    cur = _cursor(conn)
    sql = cur.sql
    rows = cur.fetch_all(sql.select_paused, (case_id, "paused"))
    for id_, due, suspended_days in rows:
        cur.execute(sql.resume, ("open", sql.day(roll(sql.read_day(due) + timedelta(days=shift_days))),
                                 suspended_days + shift_days, id_))


def _insert_deadlines(cur: _Cursor, case_id: int, seq: int, d: Decision) -> None:
    if not d.new_deadlines:
        return
    day = cur.sql.day
    params: list[Any] = []
    for n in d.new_deadlines:
        params += (case_id, n.kind, n.label, day(n.due), n.basis, n.source, "open", seq)
    cur.execute(cur.sql.insert_deadlines(len(d.new_deadlines)), params)


_OUTBOX_DEFAULTS = {"status": "pending", "attempts": 0, "next_attempt_at": None}


def insert_outbox(conn: Connection | UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """The handlers' messages, one multi-row INSERT in the transition's transaction."""
    if not rows:
        return
    cur = _cursor(conn)
    sql = cur.sql
    params: list[Any] = []
    for r in rows:
        r = {**_OUTBOX_DEFAULTS, **r}
        params += (r["idempotency_key"], r["event"], r.get("case_id"), r["recipient"], r["template"],
                   sql.json(r.get("payload") or {}), sql.ts(_utc(r["created_at"])), r["status"], r["attempts"],
                   sql.ts(r["next_attempt_at"] and _utc(r["next_attempt_at"])))
    cur.execute(sql.insert_outbox(len(rows)), params)


def find_or_insert_person(conn: Connection, person: dict[str, Any], provisional: bool) -> int:
    existing = conn.execute(
        sa.select(person_t.c.id).where(person_t.c.codice_fiscale == person["codice_fiscale"])
    ).scalar()
    if existing is not None:
        return existing
    values = {k: person.get(k) for k in ("codice_fiscale", "cognome", "nome", "email", "telefono")}
    values["data_nascita"] = date.fromisoformat(str(person["data_nascita"]))
    values["provisional_code"] = provisional
    return conn.execute(person_t.insert().returning(person_t.c.id), values).scalar_one()
