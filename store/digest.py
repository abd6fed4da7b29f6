"""The digests' writes: the reminder log (the sweeps' idempotency record) and the digest rows in the outbox.

Set-based on PostgreSQL (one INSERT ... FROM unnest for the log; one upsert per digest, or `queue_many`: one
statement for many digests); portable statements elsewhere. Everything runs on the caller's connection,
inside its transaction (services/digest.py gathers the items and says who gets which).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from store.tables import outbox_t, reminder_log_t


def already_logged(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        found.update(conn.execute(sa.select(reminder_log_t.c.key).where(reminder_log_t.c.key.in_(chunk))).scalars())
    return found


_LOG_UNNEST = sa.text(
    "INSERT INTO reminder_log (key, deadline_id, obligation_code, period, scope_key, stage, recipient, queued_on, "
    "digest_key) SELECT * FROM unnest(CAST(:key AS varchar[]), CAST(:deadline_id AS integer[]), "
    "CAST(:obligation_code AS varchar[]), CAST(:period AS varchar[]), CAST(:scope_key AS varchar[]), "
    "CAST(:stage AS varchar[]), CAST(:recipient AS varchar[]), CAST(:queued_on AS date[]), "
    "CAST(:digest_key AS varchar[])) ON CONFLICT (key) DO NOTHING RETURNING key")
_LOG_COLUMNS = ("key", "deadline_id", "obligation_code", "period", "scope_key", "stage", "recipient", "queued_on",
                "digest_key")


def log_fresh(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Write the log rows not logged yet and return their keys: one statement, no pre-query (the unique
    key is the idempotency check; a concurrent sweep's rows are skipped, not an error).

    PostgreSQL: one INSERT ... SELECT FROM unnest(arrays), a short statement psycopg parses once (the
    multi-row VALUES of SQLAlchemy's insertmanyvalues is longer than psycopg's query cache takes and
    measured slower than the pre-query it replaces).
    """
    name = conn.dialect.name
    if name == "postgresql":
        return set(conn.execute(_LOG_UNNEST, {c: [r[c] for r in rows] for c in _LOG_COLUMNS}).scalars().all())
    if name == "sqlite":
        stmt = sqlite_insert(reminder_log_t).on_conflict_do_nothing(index_elements=["key"]).returning(
            reminder_log_t.c.key)
        return set(conn.execute(stmt, rows).scalars().all())
    done = already_logged(conn, [r["key"] for r in rows])
    fresh = [r for r in rows if r["key"] not in done]
    if fresh:
        conn.execute(reminder_log_t.insert(), fresh)
    return {r["key"] for r in fresh}


_DIGEST_UPSERT = sa.text(
    "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, status, "
    "attempts, next_attempt_at) VALUES (:key, 'digest', NULL, :email, 'digest', CAST(:payload AS jsonb), :now, "
    "'pending', 0, :now) ON CONFLICT (idempotency_key) DO UPDATE SET payload = jsonb_set(outbox.payload, '{voci}', "
    "(outbox.payload -> 'voci') || (excluded.payload -> 'voci')) WHERE outbox.status = 'pending' RETURNING id")


def queue(conn: Connection, key: str, email: str, recipient: dict[str, Any], day: date, items: list[dict],
          now: datetime) -> None:
    """Add `items` to the digest `key` (digest:<recipient>:<day>) for `email`: merged into it while still
    pending, else in a new digest of the day (key suffixed :2, :3, ...). `recipient` is the payload's
    "destinatario"."""
    if conn.dialect.name == "postgresql":
        # today's digest by its exact key (unique index), items appended server-side; only when today's
        # digest already left (no row back) the suffix lookup below runs
        payload = json.dumps({"destinatario": recipient, "giorno": day.isoformat(), "voci": items})
        if conn.execute(_DIGEST_UPSERT, {"key": key, "email": email, "payload": payload,
                                         "now": now}).first() is not None:
            return
    existing = conn.execute(
        sa.select(outbox_t.c.id, outbox_t.c.status, outbox_t.c.payload, outbox_t.c.idempotency_key)
        .where(outbox_t.c.idempotency_key.like(f"{key}%")).order_by(outbox_t.c.id.desc()).limit(1)
    ).first()
    if existing is not None and existing.status == "pending":
        payload = dict(existing.payload)
        payload["voci"] = list(payload.get("voci", [])) + items
        merged = conn.execute(outbox_t.update().where(outbox_t.c.id == existing.id, outbox_t.c.status == "pending")
                              .values(payload=payload)).rowcount
        if merged:
            return
        # a dispatcher claimed it meanwhile: the new items go in a digest of their own
    if existing is not None:  # today's digest already left: a second one for the new items
        key = f"{key}:{_next_suffix(existing.idempotency_key, key)}"
    conn.execute(outbox_t.insert(), {
        "idempotency_key": key, "event": "digest", "case_id": None, "recipient": email,
        "template": "digest", "created_at": now, "status": "pending", "attempts": 0, "next_attempt_at": now,
        "payload": {"destinatario": recipient, "giorno": day.isoformat(), "voci": items},
    })


_DIGESTS_UPSERT = sa.text(
    "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, status, "
    "attempts, next_attempt_at) SELECT k, 'digest', NULL, e, 'digest', p, :now, 'pending', 0, :now "
    "FROM ROWS FROM (unnest(CAST(:keys AS varchar[])), unnest(CAST(:emails AS varchar[])), "
    "jsonb_array_elements(CAST(:payloads AS jsonb))) AS t(k, e, p) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET payload = jsonb_set(outbox.payload, '{voci}', "
    "(outbox.payload -> 'voci') || (excluded.payload -> 'voci')) WHERE outbox.status = 'pending' "
    "RETURNING idempotency_key")


def queue_many(conn: Connection, day: date, digests: list[tuple[str, str, dict[str, Any], str]],
               now: datetime) -> None:
    """`queue` for many digests at once: (key, email, recipient, payload as JSON text), one key each
    (`payload_json` joins a payload from its items' JSON texts, so no item is parsed again).

    PostgreSQL: one INSERT ... SELECT FROM unnest ... ON CONFLICT DO UPDATE for all of them (items appended
    server-side to today's digest while pending, as `queue` does; the payloads go as ONE jsonb array text,
    not a text[]: psycopg escapes every quote of an array's text elements with a regex, 30 s of the first
    night at 3M); a digest whose today's row already left (no
    key back) goes through `queue` (its suffixed digest). Elsewhere: `queue` per digest."""
    if not digests:
        return
    done: set[str] = set()
    if conn.dialect.name == "postgresql":
        for part in _parts(digests, UPSERT_BYTES):
            done.update(conn.execute(_DIGESTS_UPSERT, {
                "keys": [d[0] for d in part], "emails": [d[1] for d in part],
                "payloads": "[" + ", ".join(d[3] for d in part) + "]", "now": now}).scalars().all())
    for key, email, recipient, payload in digests:
        if key not in done:
            queue(conn, key, email, recipient, day, json.loads(payload)["voci"], now)


UPSERT_BYTES = 4_000_000  # payload text per statement: the parameter's copies (str, bytes, libpq's buffer) stay small


def _parts(digests: list, limit: int):
    part, size = [], 0
    for d in digests:
        part.append(d)
        size += len(d[3])
        if size >= limit:
            yield part
            part, size = [], 0
    if part:
        yield part


def payload_json(recipient: dict[str, Any], day: date, items: list[str]) -> str:
    """The digest payload (destinatario, giorno, voci) as JSON text, from its items' JSON texts."""
    head = json.dumps({"destinatario": recipient, "giorno": day.isoformat()})
    return f'{head[:-1]}, "voci": [{", ".join(items)}]}}'


def _next_suffix(last_key: str, base: str) -> int:
    rest = last_key[len(base):].lstrip(":")
    return int(rest) + 1 if rest.isdigit() else 2
