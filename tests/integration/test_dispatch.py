"""Dispatching the outbox to a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL.

The server stores every envelope and can be told to answer 4xx/5xx for chosen recipients or for DATA.
"""
from __future__ import annotations

import asyncio
import email
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from config.settings import Settings
from notifications.dispatch import DEFAULT_LEASE, backoff, dispatch_outbox, list_outbox, preview_outbox
from notifications.render import RenderedMail
from notifications.sender import (
    EmlSender,
    SenderUnavailable,
    SendResult,
    SmtpConfig,
    SmtpSender,
    build_message,
    build_outgoing,
    message_id,
    sender_factory_from_settings,
)
from store.tables import outbox_t
from tests.integration.conftest import NOW

UTC = timezone.utc
T0 = NOW.astimezone(UTC)
BASE_URL = "https://legami.example.org"
MAIL_FROM = "Legami <legami@example.org>"


# ------------------------------------------------------------------ a real SMTP server


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; scripted refusals per recipient or for DATA."""

    def __init__(self):
        self.received: list[Received] = []
        self.rcpt_replies: dict[str, list[str | None]] = {}  # address -> replies, None = accept; last sticks
        self.data_replies: list[str] = []  # consumed one per DATA
        self.lock = threading.Lock()

    def refuse(self, address: str, *replies: str | None) -> None:
        self.rcpt_replies[address] = list(replies)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            replies = self.rcpt_replies.get(address)
            reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            msg = email.message_from_bytes(envelope.content.replace(b"\r\n", b"\n"), policy=policy.default)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [r.message["Message-ID"] for r in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def smtp_server(mailbox, port):
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox
    controller.stop()


def smtp_factory(port: int, timeout: float = 2.0):
    config = SmtpConfig(host="127.0.0.1", port=port, starttls=False, use_tls=False, timeout=timeout)
    return lambda: SmtpSender(config)


def dispatch(engine, port, **kwargs):
    kwargs.setdefault("now", T0)
    factory = kwargs.pop("sender_factory", None) or smtp_factory(port)
    return dispatch_outbox(engine, sender_factory=factory, mail_from=MAIL_FROM, base_url=BASE_URL, **kwargs)


# ------------------------------------------------------------------ outbox rows


def digest_payload(username: str, n: int = 1) -> dict:
    voci = [
        {"categoria": "scadenza", "caso_id": 17, "tipo_caso": "Patto gener-attivo", "etichetta": "Firma del patto",
         "scadenza": "2026-11-25", "giorni": 5, "comune": "Crema", "fonte": "configured", "persona": "B. L.",
         "link": "/casi/17", "promemoria_precedenti": []},
        {"categoria": "escalation", "caso_id": 21, "tipo_caso": "Patto gener-attivo",
         "etichetta": "Verifica finale", "scadenza": "2026-11-16", "giorni": -4, "comune": "Crema",
         "fonte": "statutory", "persona": "C. M.", "link": "/casi/21",
         "promemoria_precedenti": [{"destinatario": "as.rossi", "il": "2026-11-15"}]},
        {"categoria": "scaduta", "caso_id": 9, "tipo_caso": "SAD sperimentazione", "etichetta": "Prima visita",
         "scadenza": "2026-11-18", "giorni": -2, "comune": "Pandino", "fonte": "configured", "persona": "D. N.",
         "link": "/casi/9", "promemoria_precedenti": []},
    ]
    return {"destinatario": {"username": username, "nome": username.replace(".", " ").title(),
                             "ruolo": "social_worker"},
            "giorno": "2026-11-20", "voci": voci[:n]}


def queue(engine, recipients: list[str], *, template: str = "digest", payload: dict | None = None,
          prefix: str = "digest") -> list[int]:
    rows = [{
        "idempotency_key": f"{prefix}:{r}:2026-11-20", "event": "digest", "case_id": None, "recipient": r,
        "template": template, "payload": payload if payload is not None else digest_payload(r.split("@")[0], 3),
        "created_at": T0, "status": "pending", "attempts": 0, "next_attempt_at": T0,
    } for r in recipients]
    with engine.begin() as conn:
        conn.execute(outbox_t.insert(), rows)
        return list(conn.execute(sa.select(outbox_t.c.id).where(
            outbox_t.c.idempotency_key.in_([r["idempotency_key"] for r in rows])).order_by(outbox_t.c.id)).scalars())


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.recipient: dict(r._mapping) for r in conn.execute(sa.select(outbox_t).order_by(outbox_t.c.id))}


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def addresses(n: int, domain: str = "example.org") -> list[str]:
    return [f"utente{i:03d}@{domain}" for i in range(n)]


# ------------------------------------------------------------------ delivery


def test_digests_arrive_as_italian_text_and_html_with_dd_mm_yyyy_dates_and_absolute_links(engine, smtp_server, port):
    ids = queue(engine, ["as.rossi@example.org", "coord.crema@example.org"])

    result = dispatch(engine, port)

    assert (result.sent, result.retried, result.failed, result.partial, result.error) == (2, 0, 0, 0, None)
    assert [r.rcpt_tos for r in smtp_server.received] == [["as.rossi@example.org"], ["coord.crema@example.org"]]
    first = smtp_server.received[0].message
    assert first["Subject"] == "Legami – 3 scadenze al 20/11/2026"
    assert first["From"] == MAIL_FROM and first["To"] == "as.rossi@example.org"
    assert first["Message-ID"] == message_id("digest:as.rossi@example.org:2026-11-20")
    assert first["X-Legami-Key"] == "digest:as.rossi@example.org:2026-11-20"
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Gentile As Rossi" in body
        assert "25/11/2026" in body and "2026-11-25" not in body
        assert "https://legami.example.org/casi/17" in body
        assert "sollecitato as.rossi il 15/11/2026" in body
    assert text.index("SCADUTE") < text.index("IN SCADENZA") < text.index("SOLLECITI PER SCADENZE SUPERATE DI ALTRI")
    assert 'href="https://legami.example.org/casi/21"' in html and '<html lang="it">' in html
    stored = rows(engine)
    assert {r["status"] for r in stored.values()} == {"sent"}
    assert all(r["attempts"] == 1 and r["sent_at"] is not None and r["last_error"] is None for r in stored.values())
    assert sorted(r["id"] for r in stored.values()) == ids


def test_a_second_run_sends_nothing_already_sent(engine, smtp_server, port):
    queue(engine, addresses(3))
    assert dispatch(engine, port).sent == 3
    again = dispatch(engine, port, now=T0 + timedelta(days=1))
    assert (again.sent, again.retried, again.failed) == (0, 0, 0)
    assert len(smtp_server.received) == 3


def test_with_smtp_down_for_a_whole_run_messages_stay_queued_and_all_go_out_once_on_the_next_run(engine, mailbox,
                                                                                                 port):
    queue(engine, addresses(25))

    down = dispatch(engine, port, batch_size=10)  # nothing listens on the port

    assert (down.sent, down.retried, down.failed, down.deferred) == (0, 0, 0, 25)
    assert "server SMTP non disponibile" in down.error
    assert all((r["status"], r["attempts"], as_utc(r["next_attempt_at"]), r["last_error"]) == ("pending", 0, T0, None)
               for r in rows(engine).values())  # a connection failure is not an attempt

    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = dispatch(engine, port, batch_size=10)
        later = dispatch(engine, port, now=T0 + timedelta(hours=1), batch_size=10)
    finally:
        controller.stop()

    assert (up.sent, up.deferred, up.error) == (25, 0, None) and later.sent == 0
    ids = mailbox.message_ids()
    assert len(ids) == 25 and len(set(ids)) == 25
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == addresses(25)
    assert {r["status"] for r in rows(engine).values()} == {"sent"}


def test_a_server_that_never_greets_times_out_within_the_configured_timeout(engine, port):
    queue(engine, addresses(2))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", port))
        silent.listen()  # accepts TCP, never says 220
        started = datetime.now()
        result = dispatch(engine, port, sender_factory=smtp_factory(port, timeout=1.0))
        elapsed = (datetime.now() - started).total_seconds()
    assert result.deferred == 2 and "Timeout" in result.error
    assert elapsed < 5
    assert {r["status"] for r in rows(engine).values()} == {"pending"}


def test_a_4xx_reply_is_retried_after_the_backoff_and_delivered_on_a_later_run(engine, smtp_server, port):
    queue(engine, ["as.rossi@example.org", "as.verdi@example.org"])
    smtp_server.refuse("as.verdi@example.org", "451 4.3.0 Riprovare piu' tardi", None)

    first = dispatch(engine, port)

    assert (first.sent, first.retried, first.failed) == (1, 1, 0)
    verdi = rows(engine)["as.verdi@example.org"]
    assert verdi["status"] == "pending" and verdi["attempts"] == 1
    assert as_utc(verdi["next_attempt_at"]) == T0 + backoff(1) == T0 + timedelta(minutes=2)
    assert verdi["last_error"].startswith("as.verdi@example.org: 451 4.3.0 Riprovare")

    assert dispatch(engine, port, now=T0 + timedelta(minutes=1)).sent == 0  # not due yet
    second = dispatch(engine, port, now=T0 + timedelta(minutes=2))

    assert (second.sent, second.retried) == (1, 0)
    verdi = rows(engine)["as.verdi@example.org"]
    assert (verdi["status"], verdi["attempts"], verdi["last_error"]) == ("sent", 2, None)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["as.rossi@example.org", "as.verdi@example.org"]


def test_a_4xx_to_data_is_retried_too(engine, smtp_server, port):
    queue(engine, ["as.rossi@example.org"])
    smtp_server.data_replies.append("452 4.3.1 Spazio insufficiente")
    assert dispatch(engine, port).retried == 1
    assert rows(engine)["as.rossi@example.org"]["last_error"] == "452 4.3.1 Spazio insufficiente"
    assert dispatch(engine, port, now=T0 + timedelta(minutes=2)).sent == 1


def test_a_421_closes_the_connection_and_the_next_message_goes_out_on_a_new_one(engine, smtp_server, port):
    queue(engine, ["a@example.org", "b@example.org", "c@example.org"])
    smtp_server.refuse("b@example.org", "421 4.7.0 Troppe connessioni", None)
    result = dispatch(engine, port)
    assert (result.sent, result.retried, result.error) == (2, 1, None)
    assert [r.rcpt_tos[0] for r in smtp_server.received] == ["a@example.org", "c@example.org"]


def test_transient_failures_become_permanent_after_max_attempts(engine, smtp_server, port):
    queue(engine, ["as.verdi@example.org"])
    smtp_server.refuse("as.verdi@example.org", "450 4.2.1 Casella occupata")
    when = T0
    for attempt in (1, 2):
        dispatch(engine, port, now=when, max_attempts=3)
        when += backoff(attempt)
    last = dispatch(engine, port, now=when, max_attempts=3)
    row = rows(engine)["as.verdi@example.org"]
    assert last.failed == 1 and row["status"] == "failed" and row["attempts"] == 3
    assert row["last_error"] == "tentativi esauriti (3): as.verdi@example.org: 450 4.2.1 Casella occupata"


def test_a_5xx_reply_fails_the_message_permanently_with_the_servers_reply(engine, smtp_server, port):
    queue(engine, ["ignoto@example.org", "as.rossi@example.org"])
    smtp_server.refuse("ignoto@example.org", "550 5.1.1 Utente sconosciuto")

    result = dispatch(engine, port)
    later = dispatch(engine, port, now=T0 + timedelta(days=1))

    assert (result.sent, result.failed, later.sent, later.failed) == (1, 1, 0, 0)
    row = rows(engine)["ignoto@example.org"]
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"] == "ignoto@example.org: 550 5.1.1 Utente sconosciuto"
    assert [r.rcpt_tos for r in smtp_server.received] == [["as.rossi@example.org"]]


def test_a_5xx_to_data_is_permanent(engine, smtp_server, port):
    queue(engine, ["as.rossi@example.org"])
    smtp_server.data_replies.append("554 5.6.0 Contenuto rifiutato")
    assert dispatch(engine, port).failed == 1
    row = rows(engine)["as.rossi@example.org"]
    assert (row["status"], row["last_error"]) == ("failed", "554 5.6.0 Contenuto rifiutato")


def test_a_partial_refusal_is_sent_and_the_refused_recipients_are_recorded(engine, smtp_server, port):
    queue(engine, ["udp@example.org, ignoto@example.org"], payload=digest_payload("udp.neri", 2))
    smtp_server.refuse("ignoto@example.org", "550 5.1.1 Utente sconosciuto")

    result = dispatch(engine, port)

    assert (result.sent, result.partial, result.failed) == (1, 1, 0)
    row = rows(engine)["udp@example.org, ignoto@example.org"]
    assert row["status"] == "sent"
    assert row["last_error"] == "rifiutati parzialmente: ignoto@example.org: 550 5.1.1 Utente sconosciuto"
    assert [r.rcpt_tos for r in smtp_server.received] == [["udp@example.org"]]


def test_an_unknown_template_fails_the_row_without_reaching_the_server(engine, smtp_server, port):
    queue(engine, ["as.rossi@example.org"], template="inesistente", payload={})
    result = dispatch(engine, port)
    row = rows(engine)["as.rossi@example.org"]
    assert result.failed == 1 and row["status"] == "failed" and row["attempts"] == 0
    assert "inesistente" in row["last_error"] and smtp_server.received == []


def test_a_pending_row_written_without_next_attempt_at_is_due_from_its_creation(engine, smtp_server, port):
    queue(engine, ["as.rossi@example.org"])
    with engine.begin() as conn:
        conn.execute(outbox_t.update().values(next_attempt_at=None))
    assert dispatch(engine, port).sent == 1


def test_list_and_preview_show_the_queue_without_sending(engine):
    ids = queue(engine, ["as.rossi@example.org", "as.verdi@example.org"])
    listed = list_outbox(engine)
    assert [r["id"] for r in listed] == ids[::-1] and {r["status"] for r in listed} == {"pending"}
    assert list_outbox(engine, status="sent") == [] and len(list_outbox(engine, limit=1)) == 1
    mail = preview_outbox(engine, ids[0], base_url=BASE_URL)
    assert mail.subject == "Legami – 3 scadenze al 20/11/2026" and "https://legami.example.org/casi/17" in mail.text
    with pytest.raises(LookupError):
        preview_outbox(engine, 999_999, base_url=BASE_URL)


# ------------------------------------------------------------------ exactly once


class Killed(BaseException):
    """Stands for the process being stopped (like KeyboardInterrupt, not an SMTP failure)."""


class DiesAfter:
    """Wraps a sender: after `k` messages, the next send raises Killed (before or after delivering it)."""

    def __init__(self, inner, k: int, *, after_delivery: bool = False):
        self.inner, self.k, self.after_delivery = inner, k, after_delivery
        self.cte = inner.cte

    async def connect(self):
        await self.inner.connect()

    async def close(self):
        await self.inner.close()

    async def send(self, msg) -> SendResult:
        if self.k == 0:
            if self.after_delivery:
                await self.inner.send(msg)
            raise Killed()
        self.k -= 1
        return await self.inner.send(msg)


def test_a_dispatch_killed_mid_batch_and_rerun_loses_nothing_and_duplicates_nothing(engine, smtp_server, port):
    queue(engine, addresses(30))
    factory = smtp_factory(port)

    with pytest.raises(Killed):
        dispatch(engine, port, batch_size=20, sender_factory=lambda: DiesAfter(factory(), 7))

    stored = rows(engine)
    assert sum(r["status"] == "sent" for r in stored.values()) == 7
    assert sum(r["status"] == "pending" for r in stored.values()) == 23  # unsent claims returned at once
    assert len(smtp_server.received) == 7

    rerun = dispatch(engine, port, batch_size=20)

    assert rerun.sent == 23
    ids = smtp_server.message_ids()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == addresses(30)


def test_a_kill_between_the_servers_reply_and_the_commit_resends_with_the_same_message_id(engine, smtp_server, port):
    queue(engine, addresses(3))
    factory = smtp_factory(port)
    with pytest.raises(Killed):
        dispatch(engine, port, sender_factory=lambda: DiesAfter(factory(), 1, after_delivery=True))

    dispatch(engine, port)

    ids = smtp_server.message_ids()  # the documented at-least-once window: one duplicate, same Message-ID
    assert len(ids) == 4 and len(set(ids)) == 3
    assert ids[1] == ids[2] == message_id("digest:utente001@example.org:2026-11-20")


def test_a_row_left_sending_by_a_dead_dispatcher_waits_for_its_lease_then_goes_out_once(engine, smtp_server, port):
    queue(engine, addresses(2))
    with engine.begin() as conn:  # a dispatcher claimed the first row and was SIGKILLed before sending
        conn.execute(outbox_t.update().where(outbox_t.c.recipient == "utente000@example.org")
                     .values(status="sending", next_attempt_at=T0 + DEFAULT_LEASE))

    during = dispatch(engine, port)
    assert (during.sent, during.reclaimed) == (1, 0)
    assert rows(engine)["utente000@example.org"]["status"] == "sending"

    after = dispatch(engine, port, now=T0 + DEFAULT_LEASE)

    assert (after.sent, after.reclaimed) == (1, 1)
    row = rows(engine)["utente000@example.org"]
    assert row["status"] == "sent" and row["last_error"] is None
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == addresses(2)


def test_two_dispatchers_running_at_once_send_each_message_once(engine, smtp_server, port):
    queue(engine, addresses(120))
    results, errors = [], []

    def run():
        try:
            results.append(dispatch(engine, port, batch_size=10))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert sum(r.sent for r in results) == 120
    ids = smtp_server.message_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    assert {r["status"] for r in rows(engine).values()} == {"sent"}


HARD_KILL_SCRIPT = """
import sys, time
from datetime import datetime
from notifications.dispatch import dispatch_outbox
from notifications.sender import SmtpConfig, SmtpSender
from store.db import make_engine

url, port, k, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


class Hangs(SmtpSender):
    sent = 0

    async def send(self, msg):
        if Hangs.sent == k:
            print("hang", flush=True)  # the k-th outcome is recorded: the parent SIGKILLs us now
            time.sleep(120)
        Hangs.sent += 1
        return await super().send(msg)


config = SmtpConfig(host="127.0.0.1", port=port, starttls=False, timeout=2)
dispatch_outbox(make_engine(url), sender_factory=lambda: Hangs(config), mail_from="legami@example.org",
                base_url="https://legami.example.org", now=datetime.fromisoformat(now))
"""


def test_a_dispatcher_killed_with_sigkill_between_two_messages_has_recorded_every_one_it_sent(
        engine, db_url, smtp_server, port):
    queue(engine, addresses(12))
    proc = subprocess.Popen([sys.executable, "-c", HARD_KILL_SCRIPT, db_url, str(port), "5", T0.isoformat()],
                            cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # it says when it hangs before the 6th message (not a fixed pause: a busy machine may take longer)
    assert proc.stdout.readline() == b"hang\n", proc.stderr.read().decode()
    proc.kill()
    proc.wait()
    assert len(smtp_server.received) == 5, proc.stderr.read().decode()
    stored = rows(engine)  # each outcome was committed before the next send: nothing sent is left 'sending'
    assert sum(r["status"] == "sent" for r in stored.values()) == 5
    assert sum(r["status"] == "sending" for r in stored.values()) == 7

    assert dispatch(engine, port).sent == 0  # the lease holds: nobody touches the dead dispatcher's rows
    after = dispatch(engine, port, now=T0 + DEFAULT_LEASE)

    assert (after.reclaimed, after.sent) == (7, 7)
    ids = smtp_server.message_ids()
    assert len(ids) == 12 and len(set(ids)) == 12  # every message arrived once
    assert {r["status"] for r in rows(engine).values()} == {"sent"}


def test_build_message_gives_a_multipart_alternative_with_a_message_id_fixed_by_the_key():
    rendered = RenderedMail("Legami – caso n. 5 è assegnato, perché così va", "Testo\n", "<p>Testo</p>\n")
    row = {"id": 9, "idempotency_key": "patto.assegna:5:2:caso_assegnato:as.rossi@example.org",
           "recipient": "as.rossi@example.org", "template": "caso_assegnato"}
    when = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    first = build_message(row, rendered, MAIL_FROM, date=when)
    again = build_message(row, rendered, MAIL_FROM, date=when + timedelta(hours=3))

    assert first["Message-ID"] == again["Message-ID"] == message_id(row["idempotency_key"])
    assert first["Subject"] == rendered.subject and first["Date"] == "Fri, 20 Nov 2026 11:00:00 +0000"
    assert (first["From"], first["To"], first["X-Legami-Key"]) == (MAIL_FROM, row["recipient"], row["idempotency_key"])
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert first.get_body(("plain",)).get_content() == "Testo\n"
    assert all(len(line) <= 78 for line in bytes(first).decode().splitlines())


# ------------------------------------------------------------------ TLS and login


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory):
    """A self-signed certificate for the test server (openssl, as on the production hosts)."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return ctx


class Logins:
    def __init__(self):
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.seen.append((auth_data.login, auth_data.password))
        if (auth_data.login, auth_data.password) == (b"legami", b"segreta"):
            return AuthResult(success=True)
        # an explicit reply: aiosmtpd 1.4.6 sends nothing for a bare AuthResult(success=False)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Credenziali non valide")


def one_message(key: str = "prova:1") -> object:
    rendered = RenderedMail("Legami – prova", "Testo è qui\n", "<p>Testo è qui</p>\n")
    return build_outgoing({"id": 1, "idempotency_key": key, "recipient": "as.rossi@example.org",
                           "template": "prova"}, rendered, MAIL_FROM)


async def send_one(config: SmtpConfig, msg) -> SendResult:
    sender = SmtpSender(config)
    await sender.connect()
    try:
        return await sender.send(msg)
    finally:
        await sender.close()


def test_starttls_and_login_are_used_when_configured(mailbox, port, tls_context):
    logins = Logins()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=tls_context,
                            require_starttls=True, auth_required=True, authenticator=logins)
    controller.start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=port, username="legami", password="segreta", starttls=True,
                            timeout=2, validate_certs=False)
        result = asyncio.run(send_one(config, one_message()))
        with pytest.raises(SenderUnavailable, match="535"):
            asyncio.run(send_one(SmtpConfig(**{**config.__dict__, "password": "sbagliata"}), one_message()))
        with pytest.raises(SenderUnavailable):  # the server insists on STARTTLS
            asyncio.run(send_one(SmtpConfig(**{**config.__dict__, "starttls": False}), one_message()))
    finally:
        controller.stop()
    assert result.refused == {}
    assert logins.seen[0] == (b"legami", b"segreta")
    assert [r.message["Subject"] for r in mailbox.received] == ["Legami – prova"]


def test_implicit_tls_is_used_when_configured(mailbox, port, tls_context):
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=tls_context)
    controller.start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=port, use_tls=True, starttls=False, timeout=2,
                            validate_certs=False)
        asyncio.run(send_one(config, one_message()))
        with pytest.raises(SenderUnavailable):  # plain text against a TLS port: no greeting, timeout
            asyncio.run(send_one(SmtpConfig(host="127.0.0.1", port=port, starttls=False, timeout=1),
                                 one_message()))
    finally:
        controller.stop()
    assert len(mailbox.received) == 1
    assert mailbox.received[0].message.get_body(("plain",)).get_content() == "Testo è qui\n"


def test_a_refused_login_leaves_the_queue_untouched(engine, mailbox, port, tls_context):
    queue(engine, addresses(3))
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=tls_context,
                            require_starttls=True, auth_required=True, authenticator=Logins())
    controller.start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=port, username="legami", password="sbagliata", timeout=2,
                            validate_certs=False)
        result = dispatch(engine, port, sender_factory=lambda: SmtpSender(config))
    finally:
        controller.stop()
    assert (result.sent, result.failed, result.deferred) == (0, 0, 3) and "535" in result.error
    assert all((r["status"], r["attempts"]) == ("pending", 0) for r in rows(engine).values())


def test_smtp_settings_become_the_sender_configuration(tmp_path):
    settings = Settings(smtp_host="smtp.example.org", smtp_port=465, smtp_username="legami", smtp_password="x",
                        smtp_ssl=True, smtp_starttls=True, smtp_timeout_seconds=7.5)
    config = SmtpConfig.from_settings(settings)
    assert config == SmtpConfig(host="smtp.example.org", port=465, username="legami", password="x",
                                starttls=False, use_tls=True, timeout=7.5)
    assert isinstance(sender_factory_from_settings(settings)(), SmtpSender)
    embedded = sender_factory_from_settings(Settings(smtp_host=None))()
    assert isinstance(embedded, EmlSender) and str(embedded.outbox_dir) == "outbox"


# ------------------------------------------------------------------ without SMTP: .eml files


def test_without_smtp_the_eml_sender_writes_readable_files_and_keeps_the_rows(engine, tmp_path):
    ids = queue(engine, ["as.rossi@example.org", "ente01@example.org"][:1])
    ids += queue(engine, ["ente01@example.org"], template="sad_ente_scegli_ente", prefix="sad",
                 payload={"case_id": 5, "case_type": "sad_caso", "transizione": "Scelta dell'ente",
                          "efficace_il": "2026-11-20T09:30:00+00:00", "ente": "ENTE01"})
    outbox_dir = tmp_path / "outbox"

    result = dispatch_outbox(engine, sender_factory=lambda: EmlSender(outbox_dir), mail_from=MAIL_FROM,
                             base_url=BASE_URL, now=T0)

    assert result.sent == 2
    files = sorted(p.name for p in outbox_dir.iterdir())
    assert files == [f"{ids[0]}-digest.eml", f"{ids[1]}-sad_ente_scegli_ente.eml"]
    raw = (outbox_dir / files[1]).read_text(encoding="utf-8")
    assert "il vostro ente è stato scelto" in raw  # 8bit UTF-8: readable as plain text
    msg = email.message_from_bytes((outbox_dir / files[0]).read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Legami – 3 scadenze al 20/11/2026"
    assert "25/11/2026" in msg.get_body(("plain",)).get_content()
    listed = list_outbox(engine, status="sent")
    assert [r["id"] for r in listed] == sorted(ids, reverse=True)
    assert listed[0]["payload"]["ente"] == "ENTE01"  # the payload stays in the table
