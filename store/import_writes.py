"""The import's batched writes (services/import_batch.py): the rows of a batch of imported cases (people, cases in
their final state, every step's history row, health parts, deadlines) written with one executemany per table, on
the DBAPI cursor of the load's own connection and transaction (store/hot_sql.py), SQL text fixed per dialect.

Ids are taken before the rows are written, so a case row carries the head of its history's hash chain (which
covers the case id) and nothing is read back: PostgreSQL draws them from the table's own sequence (as a default
would, safe beside other writers); SQLite has one writer at a time and gives a new row max(id) + 1, which is what
is taken here, counted on in memory (a writer slipping in between the first read and the first write makes the
load's INSERT fail on the primary key, or SQLite refuse the write: the file's transaction is then rolled back).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from store.hot_sql import _Cursor, _cursor

PERSON_COLUMNS = ("id", "codice_fiscale", "cognome", "nome", "data_nascita", "email", "telefono", "provisional_code")
CASE_COLUMNS = ("id", "case_type", "kind", "state", "comune_istat", "person_id", "owner", "related_case_id",
                "provider_codice", "policy_version", "opened_at", "state_since", "outcome", "outcome_reason", "data",
                "version", "audit_hash")
# The case's Ambito (0018_case_ambito), as store.reference.case_ambito_sql computes it at opening: the comune's, else
# the opener's (a record placed in no comune), else the default Ambito; from the last two values of a case's row.
CASE_AMBITO = ("COALESCE((SELECT ambito_code FROM comune WHERE istat = {p}), "
               "(SELECT ambito_code FROM app_user WHERE username = {p}), "
               "(SELECT code FROM district WHERE is_default ORDER BY code LIMIT 1))")
DEADLINE_COLUMNS = ("id", "case_id", "kind", "label", "due", "basis", "source", "status", "started_seq", "closed_on",
                    "suspended_days")


def _insert(table: str, columns: Sequence[str], p: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([p] * len(columns))})"


def _insert_deadline(p: str) -> str:
    """A deadline row with its case's Ambito (0023) read from the case row just written: `DEADLINE_COLUMNS`' values
    then the case id once more."""
    return (f"INSERT INTO deadline ({', '.join(DEADLINE_COLUMNS)}, ambito_code) "
            f"VALUES ({', '.join([p] * len(DEADLINE_COLUMNS))}, (SELECT ambito_code FROM case_file WHERE id = {p}))")


def _insert_case(p: str) -> str:
    return (f"INSERT INTO case_file ({', '.join(CASE_COLUMNS)}, ambito_code) "
            f"VALUES ({', '.join([p] * len(CASE_COLUMNS))}, {CASE_AMBITO.format(p=p)})")


class Ids:
    """New ids for a table, taken just before the rows are written (see the module's note): exactly as many as
    rows, so the ids are those the rows would have got one INSERT at a time."""

    def __init__(self, table: str):
        self.table = table
        self._next: int | None = None  # SQLite: the next id to give

    def take(self, conn: Any, n: int = 1) -> list[int]:
        cur = _cursor(conn)
        if cur.sql.name == "postgresql":
            if n == 0:
                return []
            drawn = cur.fetch_all(f"SELECT nextval(pg_get_serial_sequence('{self.table}', 'id')) "
                                  "FROM generate_series(1, %s)", (n,))
            return sorted(r[0] for r in drawn)
        if self._next is None:
            self._next = (cur.fetch_one(f"SELECT max(id) FROM {self.table}", ())[0] or 0) + 1
        first = self._next
        self._next += n
        return list(range(first, first + n))


def write_batch(conn: Any, people: list[tuple], cases: list[tuple], steps: list[tuple], health: list[tuple],
                deadlines: list[tuple]) -> None:
    """One executemany per table, in foreign-key order. `people`, `cases`, `deadlines`: the columns above in their
    order (values already adapted by `adapters(conn)`); `steps`: store.cases._audit_row's tuples; `health`:
    (case_id, seq, key_id, nonce, ciphertext)."""
    cur = _cursor(conn)
    sql = cur.sql
    for statement, rows in ((_insert("person", PERSON_COLUMNS, sql.p), people),
                            (_insert_case(sql.p), cases),
                            (sql.insert_audit, steps), (sql.insert_health, health),
                            (_insert_deadline(sql.p), [(*d, d[1]) for d in deadlines])):
        if rows:
            _executemany(cur, statement, rows)


def _executemany(cur: _Cursor, statement: str, rows: list[tuple]) -> None:
    try:
        cur.cur.executemany(statement, rows)
    except Exception as err:
        raise cur._wrapped(statement, rows[:1], err) from err


def adapters(conn: Any) -> Any:
    """The value adapters of the connection's dialect (ts, day, json), as the hot path writes values."""
    return _cursor(conn).sql


IMPORT_COLUMNS = ("case_type", "external_id", "case_id", "file_name", "file_sha256", "row_number", "imported_by",
                  "imported_at")


def record(conn: Any, rows: Sequence[dict[str, Any]]) -> None:
    """The case_import rows of a batch (store.imports.record's, on the cursor: one executemany)."""
    if rows:
        cur = _cursor(conn)
        ts = cur.sql.ts
        _executemany(cur, _insert("case_import", IMPORT_COLUMNS, cur.sql.p),
                     [(*(r[c] for c in IMPORT_COLUMNS[:-1]), ts(r["imported_at"])) for r in rows])


def settle(conn: Any, deadline_ids: Sequence[int], import_day: Any) -> None:
    """The reminder_log rows of store.imports.settle_missed_deadlines for these deadlines (open, already past on
    the import day): logged as escalated that day to «importazione», so the sweep reminds nobody of them."""
    from store.imports import IMPORT_RECIPIENT

    if deadline_ids:
        cur = _cursor(conn)
        day = cur.sql.day(import_day)
        _executemany(cur, _insert("reminder_log", ("key", "deadline_id", "stage", "recipient", "queued_on",
                                                   "digest_key"), cur.sql.p),
                     [(f"scadenza:{i}:scaduta:{IMPORT_RECIPIENT}", i, "scaduta", IMPORT_RECIPIENT, day,
                       IMPORT_RECIPIENT) for i in deadline_ids])
