"""The hot path's mechanics: the SQL text per DBAPI paramstyle, the value adapters, the cursor that runs the
statements on the caller's connection, and the unit of work on a pooled DBAPI connection (store/cases.py runs
a transition's statements through them)."""
from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection


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
            "person.codice_fiscale, person.data_nascita, case_file.audit_hash, health_data.key_id, "
            "health_data.nonce, health_data.ciphertext FROM case_file LEFT OUTER JOIN person "
            "ON person.id = case_file.person_id LEFT OUTER JOIN health_data ON health_data.case_id = case_file.id "
            f"AND health_data.seq = 0 WHERE case_file.id = {p}"
        )
        # the sealed health part of a case (seq 0) or of a step (store/sealed.py)
        self.insert_health = (f"INSERT INTO health_data (case_id, seq, key_id, nonce, ciphertext) "
                              f"VALUES ({p}, {p}, {p}, {p}, {p})")
        self.update_health = (f"UPDATE health_data SET key_id={p}, nonce={p}, ciphertext={p} "
                              f"WHERE health_data.case_id = {p} AND health_data.seq = {p}")
        self.delete_health = f"DELETE FROM health_data WHERE health_data.case_id = {p} AND health_data.seq = {p}"
        self.select_user = (
            "SELECT app_user.username, app_user.role, app_user.sub_ambito, app_user.provider_codice, "
            f"app_user.email, app_user.full_name FROM app_user WHERE app_user.username = {p} "
            f"AND app_user.active {true}"
        )
        self.insert_audit = (
            "INSERT INTO case_transition (case_id, seq, transition, from_state, to_state, actor, actor_role, "
            "recorded_at, effective_at, effective_on, reason, data, hash, on_behalf_of) VALUES "
            f"({', '.join([p] * 14)})"
        )
        self.set_audit_head = f"UPDATE case_file SET audit_hash={p} WHERE case_file.id = {p}"
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
            # the case's Ambito read from its row (0023): the case's own id a second time
            row = f"({', '.join([self.p] * 8)}, 0, (SELECT ambito_code FROM case_file WHERE id = {self.p}))"
            sql = self._deadlines[n] = (
                "INSERT INTO deadline (case_id, kind, label, due, basis, source, status, started_seq, "
                f"suspended_days, ambito_code) VALUES {', '.join([row] * n)}"
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
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

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
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def read_day(self, value: Any) -> date | None:
        return value if value is None or isinstance(value, date) else date.fromisoformat(value)

    def read_json(self, value: Any) -> Any:
        return None if value is None else _loads(value)


_IDLE = TransactionStatus.IDLE

_SQL = {"postgresql": _Sql("postgresql", "%s", "IS true"), "sqlite": _SqliteSql("sqlite", "?", "= 1")}


class _Cursor:
    """A DBAPI cursor of an SQLAlchemy connection or unit of work; errors come out as SQLAlchemy's, as from Core."""

    __slots__ = ("conn_ref", "counting", "cur", "dbapi_conn", "dialect", "pipelined", "sql")

    def __init__(self, conn: Connection | UnitOfWork):
        self.conn_ref = weakref.ref(conn)  # the connection keeps this cursor: no reference cycle
        self.dialect = conn.dialect
        self.sql: _Sql = _SQL[conn.dialect.name]
        self.dbapi_conn = conn.dbapi_connection if type(conn) is UnitOfWork else conn.connection.dbapi_connection
        self.cur = self.dbapi_conn.cursor()
        self.counting: Any = None  # the cursor whose rowcount a batch reads back (see `execute_counted`)
        self.pipelined = self.sql.name == "postgresql"

    def execute(self, statement: str, params: Sequence[Any]) -> Any:
        try:
            self.cur.execute(statement, params)
        except Exception as err:
            raise self._wrapped(statement, params, err) from err
        return self.cur

    def execute_counted(self, statement: str, params: Sequence[Any]) -> Any:
        """Run a statement whose rowcount the caller checks, on a cursor of its own: inside a batch the main
        cursor's later statements would replace its result. Returns that cursor (rowcount read after the
        batch on PostgreSQL, at once on SQLite)."""
        if not self.pipelined:
            return self.execute(statement, params)
        counting = self.counting
        if counting is None:
            counting = self.counting = self.dbapi_conn.cursor()
        try:
            counting.execute(statement, params)
        except Exception as err:
            raise self._wrapped(statement, params, err) from err
        return counting

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The statements run in the block go to the server together and are answered together (one round
        trip: psycopg's pipeline mode, PostgreSQL only; SQLite runs them one by one, in process). The same
        statements, in the same order, in the same transaction; a failing one aborts the transaction as it
        would anyway. Results (rowcount) are there after the block; errors come out at the latest there."""
        if not self.pipelined:
            yield
            return
        try:
            with self.dbapi_conn.pipeline():
                yield
        except self.dialect.loaded_dbapi.Error as err:
            raise self._wrapped("(pipeline)", (), err) from err

    def fetch_one(self, statement: str, params: Sequence[Any]) -> Any:
        if self.pipelined and self.dbapi_conn.pgconn.transaction_status == _IDLE:
            # the unit of work's first statement: psycopg's BEGIN and it in one round trip, not two
            with self.batch():
                self.execute(statement, params)
            rows = self.cur.fetchall()
        else:
            rows = self.execute(statement, params).fetchall()  # all: SQLite resets the statement (no lock kept)
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

    __slots__ = ("__weakref__", "_hot", "dbapi_connection", "dialect", "fairy", "pool")

    def __init__(self, engine: sa.engine.Engine):
        self.dialect = engine.dialect
        self.pool = engine.pool
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
            if err is not None:  # a lost connection: the others of its generation are recycled too, as Core does
                self.pool._invalidate(self.fairy, err, _checkin=False)
            self.fairy.invalidate(err)

    def close(self) -> None:
        if self._hot is not None and self.dbapi_connection is not None:
            self._hot.cur.close()
            if self._hot.counting is not None:
                self._hot.counting.close()
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


