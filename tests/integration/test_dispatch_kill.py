"""A dispatcher SIGKILLed in the middle of a batch, on SQLite and PostgreSQL, against a real SMTP server.

The dispatch runs in a subprocess configured only through the environment (LEGAMI_OUTBOX_LEASE_SECONDS among
it), is killed while it is sending, and a second dispatch runs once the dead one's lease has passed.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from notifications.dispatch import dispatch_outbox
from notifications.sender import SmtpConfig, SmtpSender, message_id
from store.tables import outbox_t
from tests.integration.test_dispatch import (  # noqa: F401  (fixtures)
    BASE_URL,
    MAIL_FROM,
    addresses,
    mailbox,
    port,
    queue,
    smtp_factory,
    smtp_server,
)

UTC = timezone.utc
LEASE_SECONDS = 4
MESSAGES = 300

DISPATCH_SCRIPT = """
from config.settings import get_settings
from notifications.dispatch import dispatch_from_settings
from store.db import make_engine

settings = get_settings()
dispatch_from_settings(make_engine(settings.database_url), settings)
"""


def start_dispatcher(db_url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, LEGAMI_DATABASE_URL=db_url, LEGAMI_SMTP_HOST="127.0.0.1", LEGAMI_SMTP_PORT=str(port),
               LEGAMI_SMTP_STARTTLS="false", LEGAMI_SMTP_TIMEOUT_SECONDS="5",
               LEGAMI_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS))
    return subprocess.Popen([sys.executable, "-c", DISPATCH_SCRIPT], cwd=os.getcwd(), env=env,
                            stderr=subprocess.PIPE)


def kill_once_delivered(proc: subprocess.Popen, mailbox, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(mailbox.received) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def claimed(engine) -> list[datetime]:
    with engine.connect() as conn:
        return [t if t.tzinfo else t.replace(tzinfo=UTC) for t in conn.execute(
            sa.select(outbox_t.c.next_attempt_at).where(outbox_t.c.status == "sending")).scalars()]


def test_a_dispatcher_killed_mid_batch_resends_at_most_one_message_once_its_short_lease_has_passed(
        engine, db_url, smtp_server, port):
    queue(engine, addresses(MESSAGES))
    proc = start_dispatcher(db_url, port)

    kill_once_delivered(proc, smtp_server, 60)
    killed_at = datetime.now(UTC)

    leases = claimed(engine)
    assert leases, "the kill should have left claimed rows behind"
    assert all(t <= killed_at + timedelta(seconds=LEASE_SECONDS) for t in leases)  # the setting's lease
    time.sleep(max((max(leases) - datetime.now(UTC)).total_seconds(), 0) + 0.2)

    after = dispatch_outbox(engine, sender_factory=smtp_factory(port), mail_from=MAIL_FROM, base_url=BASE_URL,
                            lease=timedelta(seconds=LEASE_SECONDS))

    assert after.reclaimed == len(leases) and after.error is None
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(outbox_t.c.status)).scalars()) == {"sent"}
    delivered = Counter(smtp_server.message_ids())
    expected = {message_id(f"digest:{a}:2026-11-20") for a in addresses(MESSAGES)}
    assert set(delivered) == expected  # every message arrived, under its own Message-ID
    twice = [mid for mid, n in delivered.items() if n > 1]
    assert len(twice) <= 1 and max(delivered.values()) <= 2, f"delivered more than once: {len(twice)} messages"


class SlowSender(SmtpSender):
    async def send(self, message):
        await asyncio.sleep(0.3)
        return await super().send(message)


def test_a_batch_cut_short_by_half_its_lease_is_finished_by_the_same_run_even_when_it_was_the_last(
        engine, smtp_server, port):
    queue(engine, addresses(5))
    config = SmtpConfig(host="127.0.0.1", port=port, starttls=False, use_tls=False, timeout=2)

    result = dispatch_outbox(engine, sender_factory=lambda: SlowSender(config), mail_from=MAIL_FROM,
                             base_url=BASE_URL, batch_size=10, lease=timedelta(seconds=1))

    assert result.sent == 5  # 2 or so per half-second, then the rest claimed again
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(outbox_t.c.status)).scalars()) == {"sent"}
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == addresses(5)
