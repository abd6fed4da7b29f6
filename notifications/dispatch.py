"""Dispatching the outbox: claim due rows set-based, render, send on one connection per batch, record.

    dispatch_outbox(engine, sender_factory=..., mail_from=..., base_url=...) -> DispatchResult

A sync wrapper (asyncio.run) around `dispatch_outbox_async`, for a Prefect task or the CLI.

Row life cycle (the `status` column):

    pending --claim--> sending --250--> sent            (partial refusal: sent, refusals in last_error)
                          |----4xx----> pending          (attempts+1, next_attempt_at = now + backoff)
                          |----4xx, attempts = max----> failed
                          |----5xx----> failed           (the server's code and reply in last_error)
                          '--lease expired (dispatcher killed)--> pending (next run)

Exactly once. A batch is claimed by ONE statement,
``UPDATE outbox SET status='sending', next_attempt_at=now+lease WHERE id IN (SELECT id ... WHERE
status='pending' AND next_attempt_at <= now ORDER BY next_attempt_at, id LIMIT n FOR UPDATE SKIP LOCKED)
RETURNING ...`` (oldest due first: new rows are due from their creation, so this is creation order):
a row changes from pending to sending for one dispatcher only (PostgreSQL: row locks, SKIP LOCKED gives
concurrent dispatchers disjoint batches; SQLite: one writer at a time), and only the dispatcher whose
UPDATE changed it sends it (the set-based form of "rowcount 1 wins"). The claim commits before any SMTP
traffic. Outcomes are committed in short transactions of their own, every `commit_every` messages
(default 20) or `commit_interval` seconds (0.2), whichever comes first, and at the end of each batch;
`commit_every=1` commits after each message. No database transaction is ever open while talking SMTP.
The run keeps one database connection; on PostgreSQL it commits with synchronous_commit off (see `_Store`). `sent_at`
is the time of the latest success of its commit group (milliseconds from the server's reply).

At-least-once window. If the dispatcher process dies (SIGKILL, power cut) after the server's 250 and
before the outcome's commit, the row stays 'sending'. When its lease has expired, the next run puts it
back to 'pending' and sends it again WITH THE SAME Message-ID (derived from the idempotency key), so a
receiving system can deduplicate it. The window is at most `commit_every` messages / `commit_interval`
seconds. An orderly stop (KeyboardInterrupt, SystemExit, cancellation, any exception) first commits the
outcomes already known and returns the claimed-but-unsent rows to 'pending' at once: nothing is resent
except the one message whose send was interrupted, if the server had already accepted it. A dispatcher
stops taking messages from a batch once half of the lease has passed, so a live dispatcher never sends a
row whose lease could have expired. If the database fails mid-run, the outcomes not yet committed are
lost with it: those rows stay 'sending' and go out again after the lease (same Message-ID).

SMTP unreachable (connection refused or timed out, bad greeting, TLS or login refused): NOT an attempt.
The rows are left exactly as they were (pending, same attempts and next_attempt_at, so they are due
again at the next run) and the run stops with `DispatchResult.error` set and `deferred` = rows still due.
An outage of the server must never use up a message's attempts and make it fail permanently; the
schedule of the dispatch flow is the backoff. The same holds when the server goes away in the middle of a
run: the message that could not get a connection and the rest of the batch go back to 'pending' untouched.
A disconnect or timeout WHILE a message is being sent is a transient failure of that message (attempts+1).

Template errors (unknown template, a field missing from the payload) fail the row at once, without
contacting the server and without counting an attempt: retrying cannot fix them.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy.engine import Connection, Engine

from notifications.render import BadValue, RenderedMail, UnknownTemplate, render
from notifications.sender import (
    PermanentSendError,
    Sender,
    SenderUnavailable,
    TransientSendError,
    InvalidRecipient,
    build_outgoing,
    sender_factory_from_settings,
)
from store.tables import outbox_t

UTC = timezone.utc
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
DEFAULT_LEASE = timedelta(seconds=120)  # LEGAMI_OUTBOX_LEASE_SECONDS
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
COMMIT_EVERY = 20  # outcomes per commit (1: a commit after every message)
COMMIT_INTERVAL = 0.2  # seconds: no outcome waits longer for its commit
RECLAIMED_NOTE = "invio interrotto (dispatcher fermato): rimesso in coda, stesso Message-ID"


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0  # rows now 'sent' (partial refusals included)
    retried: int = 0  # transient failures rescheduled
    failed: int = 0  # rows now 'failed' (5xx, attempts used up, template errors)
    partial: int = 0  # of `sent`: some recipients refused
    deferred: int = 0  # still due and left pending because the server was unavailable
    reclaimed: int = 0  # rows stuck in 'sending' past their lease, put back to 'pending'
    error: str | None = None  # why the run stopped early (server unavailable)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    partial: int = 0
    deferred: int = 0
    reclaimed: int = 0
    error: str | None = None

    def freeze(self) -> DispatchResult:
        return DispatchResult(**asdict(self))


def backoff(attempts: int, *, key: str = "", base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP,
            jitter: float = 0.0) -> timedelta:
    """Delay after a message's `attempts`-th failed attempt: base × 2^attempts, capped (2, 4, 8 ... min).

    Deterministic. `jitter` > 0 stretches it by up to that fraction, by a hash of (key, attempts): the
    same message always waits the same, different messages spread out.
    """
    delay = min(base * (2 ** max(attempts, 0)), cap)
    if jitter > 0:
        h = int(hashlib.sha256(f"{key}:{attempts}".encode()).hexdigest()[:8], 16) / 0x1_0000_0000
        delay = min(delay * (1 + jitter * h), cap)
    return delay


# ------------------------------------------------------------------ SQL (each call: one short transaction)


class _Store:
    """One database connection for the whole run (no pool checkout and ping per commit); a transaction is
    opened only around each statement group, never while SMTP is being talked.

    PostgreSQL: the session runs with synchronous_commit off, so a commit does not wait for the WAL flush
    (~0.2 ms instead of ~0.7 ms, and much more under load). Only claims and outcomes are written here: if the
    PostgreSQL server itself crashes within ~0.6 s of such a commit, the change may be lost, which can only
    make a row go out again after its lease (same Message-ID), never lose one. The setting is reset before
    the connection goes back to the pool. SQLite (WAL, synchronous=NORMAL) does not wait for the disk anyway.
    """

    def __init__(self, engine: Engine):
        self.conn = engine.connect()
        self.pg = self.conn.dialect.name == "postgresql"
        if self.pg:
            self.conn.exec_driver_sql("SET synchronous_commit TO OFF")
            self.conn.commit()

    def close(self) -> None:
        try:
            if self.pg:
                self.conn.rollback()
                self.conn.exec_driver_sql("RESET synchronous_commit")
                self.conn.commit()
        except Exception:  # noqa: BLE001 - a broken connection must not go back to the pool
            self.conn.invalidate()
        finally:
            self.conn.close()


def _due(now: datetime):
    """Due rows, as a range of the index ix_outbox_status_next (status, next_attempt_at): the cost does not
    grow with the 'sent' rows that pile up (ordering by id would walk the primary key through all of them)."""
    return sa.and_(outbox_t.c.status == PENDING, outbox_t.c.next_attempt_at <= now)


def _reclaim_stale(conn: Connection, now: datetime) -> int:
    """Start of a run: rows left 'sending' past their lease go back to 'pending'; a pending row written
    without next_attempt_at is made due from its creation."""
    with conn.begin():
        conn.execute(outbox_t.update()
                     .where(outbox_t.c.status == PENDING, outbox_t.c.next_attempt_at.is_(None))
                     .values(next_attempt_at=outbox_t.c.created_at))
        return conn.execute(
            outbox_t.update()
            .where(outbox_t.c.status == SENDING, outbox_t.c.next_attempt_at <= now)
            .values(status=PENDING, next_attempt_at=now, last_error=RECLAIMED_NOTE)
        ).rowcount


def _any_due(conn: Connection, now: datetime) -> bool:
    with conn.begin():
        return conn.execute(sa.select(outbox_t.c.id).where(_due(now)).limit(1)).first() is not None


def _count_due(conn: Connection, now: datetime) -> int:
    with conn.begin():
        return conn.execute(sa.select(sa.func.count()).select_from(outbox_t).where(_due(now))).scalar_one()


_CLAIMED_COLUMNS = (outbox_t.c.id, outbox_t.c.idempotency_key, outbox_t.c.recipient, outbox_t.c.template,
                    outbox_t.c.payload, outbox_t.c.attempts)


def _claim_batch(conn: Connection, now: datetime, batch_size: int, lease_until: datetime) -> list[Any]:
    """Claim up to batch_size due rows in one statement; returns the rows this dispatcher won."""
    due_ids = (sa.select(outbox_t.c.id).where(_due(now))
               .order_by(outbox_t.c.next_attempt_at, outbox_t.c.id).limit(batch_size)
               .with_for_update(skip_locked=True))
    stmt = (outbox_t.update().where(outbox_t.c.id.in_(due_ids))
            .values(status=SENDING, next_attempt_at=lease_until).returning(*_CLAIMED_COLUMNS))
    with conn.begin():
        rows = conn.execute(stmt).all()
    return sorted(rows, key=lambda r: r.id)


def _release(conn: Connection, ids: Iterable[int], now: datetime) -> None:
    """Claimed rows not handed to the server: back to pending, due now, attempts unchanged."""
    ids = sorted(ids)
    if not ids:
        return
    with conn.begin():
        conn.execute(outbox_t.update().where(outbox_t.c.id.in_(ids), _STILL_OURS)
                     .values(status=PENDING, next_attempt_at=now))


# "still ours" is checked through coalesce(status, ''): the rows are looked up by primary key only. A plain
# `status = 'sending'` lets PostgreSQL AND in the status index, whose entries for rows that were 'sending'
# earlier in the run stay until vacuum: every commit rescanned them all (2.9 ms per 20 rows at 10k mails).
_STILL_OURS = sa.func.coalesce(outbox_t.c.status, "") == SENDING

_RECORD = (
    outbox_t.update()
    .where(outbox_t.c.id == sa.bindparam("b_id"), _STILL_OURS)
    .values(status=sa.bindparam("b_status"), attempts=sa.bindparam("b_attempts"),
            next_attempt_at=sa.bindparam("b_next"), sent_at=sa.bindparam("b_sent_at"),
            last_error=sa.bindparam("b_error"))
)


def _record(conn: Connection, outcomes: list[dict[str, Any]]) -> None:
    """One transaction for the outcomes at hand. Plain successes (the bulk) in one UPDATE ... WHERE id IN,
    with sent_at = the latest success of the group (they are milliseconds apart); the rest row by row."""
    plain = [o for o in outcomes if o["b_status"] == SENT and o["b_error"] is None]
    others = [o for o in outcomes if not (o["b_status"] == SENT and o["b_error"] is None)]
    with conn.begin():
        if plain:
            conn.execute(outbox_t.update()
                         .where(outbox_t.c.id.in_([o["b_id"] for o in plain]), _STILL_OURS)
                         .values(status=SENT, sent_at=max(o["b_sent_at"] for o in plain),
                                 attempts=outbox_t.c.attempts + 1, next_attempt_at=None, last_error=None))
        if others:
            conn.execute(_RECORD, others)


def _outcome(row, status: str, attempts: int, *, next_at: datetime | None = None, sent_at: datetime | None = None,
             error: str | None = None) -> dict[str, Any]:
    return {"b_id": row.id, "b_status": status, "b_attempts": attempts, "b_next": next_at, "b_sent_at": sent_at,
            "b_error": error}


class _Recorder:
    """Outcomes waiting for their commit: flushed in one short transaction every `every` outcomes, or
    once `interval` seconds have passed since the oldest one, and always at the end of a batch or on the
    way out of an interrupted one. Synchronous, in the event loop's thread (measured: committing from a
    worker thread cost more CPU than it saved, the thread and the event loop contending for the GIL)."""

    def __init__(self, conn: Connection, every: int, interval: float):
        self.conn, self.every, self.interval = conn, max(every, 1), interval
        self.queue: list[dict[str, Any]] = []
        self.oldest = 0.0

    def add(self, outcome: dict[str, Any]) -> None:
        if not self.queue:
            self.oldest = time.monotonic()
        self.queue.append(outcome)
        if len(self.queue) >= self.every or time.monotonic() - self.oldest >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.queue:
            _record(self.conn, self.queue)  # on failure the outcomes stay queued for one more try
            self.queue = []


# ------------------------------------------------------------------ the run


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dispatch_outbox(engine: Engine, *, sender_factory: Callable[[], Sender], mail_from: str, base_url: str,
                    now: datetime | None = None, batch_size: int = 200, max_attempts: int = 8,
                    lease: timedelta = DEFAULT_LEASE, jitter: float = 0.0, commit_every: int = COMMIT_EVERY,
                    commit_interval: float = COMMIT_INTERVAL) -> DispatchResult:
    """Send what is due: claim, render, send on one SMTP connection per batch, record each outcome.

    `sender_factory()` gives a fresh sender (SmtpSender / EmlSender) for each batch. `now` fixes the clock
    (tests); otherwise the real UTC time, read at each step. Not inside a running event loop: use
    `dispatch_outbox_async` there."""
    return asyncio.run(dispatch_outbox_async(
        engine, sender_factory=sender_factory, mail_from=mail_from, base_url=base_url, now=now,
        batch_size=batch_size, max_attempts=max_attempts, lease=lease, jitter=jitter, commit_every=commit_every,
        commit_interval=commit_interval))


async def dispatch_outbox_async(engine: Engine, *, sender_factory: Callable[[], Sender], mail_from: str,
                                base_url: str, now: datetime | None = None, batch_size: int = 200,
                                max_attempts: int = 8, lease: timedelta = DEFAULT_LEASE, jitter: float = 0.0,
                                commit_every: int = COMMIT_EVERY,
                                commit_interval: float = COMMIT_INTERVAL) -> DispatchResult:
    fixed = _utc(now) if now is not None else None

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    tally = _Tally()
    store = _Store(engine)
    try:
        await _run(store.conn, tally, sender_factory=sender_factory, clock=clock, mail_from=mail_from,
                   base_url=base_url, batch_size=batch_size, max_attempts=max_attempts, lease=lease, jitter=jitter,
                   commit_every=commit_every, commit_interval=commit_interval)
    finally:
        store.close()
    return tally.freeze()


async def _run(conn: Connection, tally: _Tally, *, sender_factory: Callable[[], Sender], clock, mail_from: str,
               base_url: str, batch_size: int, max_attempts: int, lease: timedelta, jitter: float,
               commit_every: int, commit_interval: float) -> None:
    tally.reclaimed = _reclaim_stale(conn, clock())
    if not _any_due(conn, clock()):
        return
    while True:
        sender = sender_factory()
        try:
            await sender.connect()
        except SenderUnavailable as exc:
            tally.error = f"server SMTP non disponibile: {exc.reply}"
            break
        try:
            t = clock()
            rows = _claim_batch(conn, t, batch_size, t + lease)
            stopped = await _send_batch(conn, sender, rows, tally, clock=clock, mail_from=mail_from,
                                        base_url=base_url, max_attempts=max_attempts, lease=lease, jitter=jitter,
                                        commit_every=commit_every, commit_interval=commit_interval)
        finally:
            await sender.close()
        if stopped or len(rows) < batch_size:
            break
    if tally.error:
        tally.deferred = _count_due(conn, clock())


class _Prepared:
    __slots__ = ("row", "message", "error")

    def __init__(self, row, message=None, error: str | None = None):
        self.row, self.message, self.error = row, message, error


# what makes a row unsendable for good; anything else raised while preparing is a bug and stops the run
# (its claimed rows go back to pending)
UNSENDABLE = (UnknownTemplate, TemplateError, BadValue, InvalidRecipient)


def _prepare(rows: list[Any], *, clock, mail_from: str, base_url: str, cte: str):
    """Render and build each row's message when its turn comes (a generator). Measured: rendering ahead
    (an asyncio task, or a thread) while the server answers gained nothing on one core's worth of Python."""
    cache: dict[tuple[str, str], RenderedMail] = {}  # render once per template + payload
    for row in rows:
        try:
            key = (row.template, json.dumps(row.payload, sort_keys=True, default=str))
            rendered = cache.get(key)
            if rendered is None:
                rendered = cache[key] = render(row.template, row.payload, base_url=base_url)
            yield _Prepared(row, build_outgoing(row._mapping, rendered, mail_from, date=clock(), cte=cte))
        except UNSENDABLE as exc:
            yield _Prepared(row, error=f"modello «{row.template}» non applicabile: {exc}")


async def _send_batch(conn: Connection, sender: Sender, rows: list[Any], tally: _Tally, *,
                      clock: Callable[[], datetime], mail_from: str, base_url: str, max_attempts: int,
                      lease: timedelta, jitter: float, commit_every: int, commit_interval: float) -> bool:
    """Send the claimed rows; True if the run must stop (server unavailable)."""
    recorder = _Recorder(conn, commit_every, commit_interval)
    unsent = {r.id for r in rows}  # claimed and not yet handed over to the server
    deadline = time.monotonic() + lease.total_seconds() / 2
    prepared = _prepare(rows, clock=clock, mail_from=mail_from, base_url=base_url,
                        cte=getattr(sender, "cte", "quoted-printable"))
    try:
        for item in prepared:
            if time.monotonic() > deadline:
                return False  # the rest goes back to pending (finally) and into the next batch
            row = item.row
            if item.error is not None:
                unsent.discard(row.id)
                recorder.add(_outcome(row, FAILED, row.attempts, error=item.error))
                tally.failed += 1
                continue
            try:
                result = await sender.send(item.message)
            except SenderUnavailable as exc:
                tally.error = f"server SMTP non disponibile: {exc.reply}"
                return True
            except TransientSendError as exc:
                unsent.discard(row.id)
                attempts = row.attempts + 1
                if attempts >= max_attempts:
                    recorder.add(_outcome(row, FAILED, attempts,
                                          error=f"tentativi esauriti ({attempts}): {exc.reply}"))
                    tally.failed += 1
                else:
                    wait = backoff(attempts, key=row.idempotency_key, jitter=jitter)
                    recorder.add(_outcome(row, PENDING, attempts, next_at=clock() + wait, error=exc.reply))
                    tally.retried += 1
                continue
            except PermanentSendError as exc:
                unsent.discard(row.id)
                recorder.add(_outcome(row, FAILED, row.attempts + 1, error=exc.reply))
                tally.failed += 1
                continue
            unsent.discard(row.id)
            error = None
            if result.refused:
                error = "rifiutati parzialmente: " + "; ".join(f"{a}: {r}" for a, r in sorted(result.refused.items()))
                tally.partial += 1
            recorder.add(_outcome(row, SENT, row.attempts + 1, sent_at=clock(), error=error))
            tally.sent += 1
        return False
    finally:
        try:
            recorder.flush()
        finally:
            _release(conn, unsent, clock())


# ------------------------------------------------------------------ helpers for the CLI and the flow

_LIST_COLUMNS = (outbox_t.c.id, outbox_t.c.idempotency_key, outbox_t.c.event, outbox_t.c.case_id,
                 outbox_t.c.recipient, outbox_t.c.template, outbox_t.c.status, outbox_t.c.attempts,
                 outbox_t.c.created_at, outbox_t.c.next_attempt_at, outbox_t.c.sent_at, outbox_t.c.last_error,
                 outbox_t.c.payload)


def list_outbox(engine: Engine, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent outbox rows (newest first), optionally of one status."""
    stmt = sa.select(*_LIST_COLUMNS).order_by(outbox_t.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(outbox_t.c.status == status)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def preview_outbox(engine: Engine, outbox_id: int, *, base_url: str) -> RenderedMail:
    """Render one outbox row as it would be sent (for the CLI: read a message without sending it)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(outbox_t.c.template, outbox_t.c.payload)
                           .where(outbox_t.c.id == outbox_id)).first()
    if row is None:
        raise LookupError(f"messaggio {outbox_id} non trovato nella coda")
    return render(row.template, row.payload, base_url=base_url)


def dispatch_from_settings(engine: Engine, settings: Any, **kwargs: Any) -> DispatchResult:
    """SMTP if LEGAMI_SMTP_HOST is set, else .eml files in settings.outbox_dir (default ./outbox)."""
    kwargs.setdefault("lease", timedelta(seconds=settings.outbox_lease_seconds))
    return dispatch_outbox(engine, sender_factory=sender_factory_from_settings(settings),
                           mail_from=settings.mail_from, base_url=settings.base_url, **kwargs)
