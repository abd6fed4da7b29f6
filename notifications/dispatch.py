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
traffic. Each message's outcome is committed on its own (one UPDATE in autocommit, see
`notifications.outbox_sql`) before the next message is sent. No database transaction is ever open while
talking SMTP. The run keeps one database connection whose commits do not wait for the disk (see `Store`).

At-least-once window. If the dispatcher process dies (SIGKILL, power cut) after the server's 250 and
before the outcome's commit, the row stays 'sending'. When its lease has expired (`lease`, from
LEGAMI_OUTBOX_LEASE_SECONDS, default 120 s), the next run puts it back to 'pending' and sends it again WITH
THE SAME Message-ID (derived from the idempotency key), so a receiving system can deduplicate it. The
window is ONE message, the one in flight when the process died: every earlier outcome is committed, every
later row was never handed to the server (tests/integration/test_dispatch_kill.py kills a dispatcher
mid-batch and counts). An orderly stop (KeyboardInterrupt, SystemExit, cancellation, any exception)
returns the claimed-but-unsent rows to 'pending' at once: nothing is resent except the one message whose
send was interrupted, if the server had already accepted it. If the database fails mid-run, the outcome
being recorded is lost with it: that row stays 'sending' and goes out again after the lease.

The lease. A dispatcher stops taking messages from a batch once half of the lease has passed, so a live
dispatcher never sends a row whose lease could have expired; one message can still take up to four SMTP
timeouts (MAIL, RCPT, DATA, the end of data), so keep the lease above 8 SMTP timeouts: the default 120 s
suits the default 10 s timeout.

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.engine import Engine

from notifications.outbox_sql import (  # noqa: F401  (list_outbox, preview_outbox: re-exported for the CLI)
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Store,
    any_due,
    claim_batch,
    count_due,
    list_outbox,
    outcome,
    preview_outbox,
    reclaim_stale,
    record,
    release,
)
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

UTC = timezone.utc
DEFAULT_LEASE = timedelta(seconds=120)  # LEGAMI_OUTBOX_LEASE_SECONDS
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


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


# ------------------------------------------------------------------ the run


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dispatch_outbox(engine: Engine, *, sender_factory: Callable[[], Sender], mail_from: str, base_url: str,
                    now: datetime | None = None, batch_size: int = 200, max_attempts: int = 8,
                    lease: timedelta = DEFAULT_LEASE, jitter: float = 0.0) -> DispatchResult:
    """Send what is due: claim, render, send on one SMTP connection per batch, record each outcome.

    `sender_factory()` gives a fresh sender (SmtpSender / EmlSender) for each batch. `now` fixes the clock
    (tests); otherwise the real UTC time, read at each step. Not inside a running event loop: use
    `dispatch_outbox_async` there."""
    return asyncio.run(dispatch_outbox_async(
        engine, sender_factory=sender_factory, mail_from=mail_from, base_url=base_url, now=now,
        batch_size=batch_size, max_attempts=max_attempts, lease=lease, jitter=jitter))


async def dispatch_outbox_async(engine: Engine, *, sender_factory: Callable[[], Sender], mail_from: str,
                                base_url: str, now: datetime | None = None, batch_size: int = 200,
                                max_attempts: int = 8, lease: timedelta = DEFAULT_LEASE, jitter: float = 0.0) -> DispatchResult:
    fixed = _utc(now) if now is not None else None

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    tally = _Tally()
    store = Store(engine)
    try:
        await _run(store, tally, sender_factory=sender_factory, clock=clock, mail_from=mail_from,
                   base_url=base_url, batch_size=batch_size, max_attempts=max_attempts, lease=lease, jitter=jitter)
    finally:
        store.close()
    return tally.freeze()


async def _run(store: Store, tally: _Tally, *, sender_factory: Callable[[], Sender], clock, mail_from: str,
               base_url: str, batch_size: int, max_attempts: int, lease: timedelta, jitter: float) -> None:
    conn = store.conn
    tally.reclaimed = reclaim_stale(conn, clock())
    if not any_due(conn, clock()):
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
            rows = claim_batch(conn, t, batch_size, t + lease)
            end = await _send_batch(store, sender, rows, tally, clock=clock, mail_from=mail_from,
                                        base_url=base_url, max_attempts=max_attempts, lease=lease, jitter=jitter)
        finally:
            await sender.close()
        if end == STOP or (end == DONE and len(rows) < batch_size):
            break
    if tally.error:
        tally.deferred = count_due(conn, clock())


DONE, CUT, STOP = "done", "cut", "stop"  # how a batch ended


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


async def _send_batch(store: Store, sender: Sender, rows: list[Any], tally: _Tally, *,
                      clock: Callable[[], datetime], mail_from: str, base_url: str, max_attempts: int,
                      lease: timedelta, jitter: float) -> str:
    """Send the claimed rows, committing each outcome before the next send. DONE: all of them; CUT: half
    the lease has passed, the rest released (the run claims again); STOP: the server became unavailable."""
    conn = store.conn
    unsent = {r.id for r in rows}  # claimed and not yet handed over to the server
    deadline = time.monotonic() + lease.total_seconds() / 2
    prepared = _prepare(rows, clock=clock, mail_from=mail_from, base_url=base_url,
                        cte=getattr(sender, "cte", "quoted-printable"))
    try:
        for item in prepared:
            if time.monotonic() > deadline:
                return CUT  # the rest goes back to pending (finally) and into the next batch
            row = item.row
            if item.error is not None:
                unsent.discard(row.id)
                record(conn, outcome(row, FAILED, row.attempts, error=item.error))
                tally.failed += 1
                continue
            try:
                result = await sender.send(item.message)
            except SenderUnavailable as exc:
                tally.error = f"server SMTP non disponibile: {exc.reply}"
                return STOP
            except TransientSendError as exc:
                unsent.discard(row.id)
                attempts = row.attempts + 1
                if attempts >= max_attempts:
                    record(conn, outcome(row, FAILED, attempts,
                                          error=f"tentativi esauriti ({attempts}): {exc.reply}"))
                    tally.failed += 1
                else:
                    wait = backoff(attempts, key=row.idempotency_key, jitter=jitter)
                    record(conn, outcome(row, PENDING, attempts, next_at=clock() + wait, error=exc.reply))
                    tally.retried += 1
                continue
            except PermanentSendError as exc:
                unsent.discard(row.id)
                record(conn, outcome(row, FAILED, row.attempts + 1, error=exc.reply))
                tally.failed += 1
                continue
            unsent.discard(row.id)
            if result.refused:
                error = "rifiutati parzialmente: " + "; ".join(f"{a}: {r}" for a, r in sorted(result.refused.items()))
                record(conn, outcome(row, SENT, row.attempts + 1, sent_at=clock(), error=error))
                tally.partial += 1
            else:
                store.record_sent(row.id, row.attempts + 1, clock())
            tally.sent += 1
        return DONE
    finally:
        release(conn, unsent, clock())


# ------------------------------------------------------------------ for the CLI and the flow


def dispatch_from_settings(engine: Engine, settings: Any, **kwargs: Any) -> DispatchResult:
    """SMTP if LEGAMI_SMTP_HOST is set, else .eml files in settings.outbox_dir (default ./outbox)."""
    kwargs.setdefault("lease", timedelta(seconds=settings.outbox_lease_seconds))
    return dispatch_outbox(engine, sender_factory=sender_factory_from_settings(settings),
                           mail_from=settings.mail_from, base_url=settings.base_url, **kwargs)
