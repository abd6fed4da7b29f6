"""Sending: the MIME message, an SMTP sender (one kept-open connection) and a .eml sender.

A sender is an async object with `connect()`, `send(msg) -> SendResult` and `close()`:

* `SmtpSender`: aiosmtplib with explicit timeouts, SSL (`use_tls`) or STARTTLS, login when a username is set.
  `send` reconnects if the server closed the connection (aiosmtplib closes it on a 421).
  Failures come out as three exceptions that the dispatcher understands:
  `SenderUnavailable` (no connection at all: the message was not tried), `TransientSendError` (4xx, timeout,
  disconnect while sending: try again later), `PermanentSendError` (5xx: never retry). Partial refusals
  (some recipients refused, the others accepted) raise nothing in aiosmtplib: they come back in
  `SendResult.refused`.
* `EmlSender`: the embedded default without LEGAMI_SMTP_HOST. Writes `<outbox_dir>/<id>-<template>.eml`
  (atomically; a resend overwrites the same file) so that a newcomer can open the messages.
"""
from __future__ import annotations

import asyncio
import binascii
import email
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from notifications.render import RenderedMail

MESSAGE_ID_DOMAIN = "legami"


# ------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True  # STARTTLS required after connecting (port 587)
    use_tls: bool = False  # implicit TLS from the first byte (port 465); excludes starttls
    timeout: float = 10.0  # seconds, for the connection and for every SMTP command
    validate_certs: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> "SmtpConfig":
        if not settings.smtp_host:
            raise ValueError("LEGAMI_SMTP_HOST non impostato: nessun server SMTP configurato")
        use_tls = bool(settings.smtp_ssl)
        return cls(
            host=settings.smtp_host, port=int(settings.smtp_port), username=settings.smtp_username or None,
            password=settings.smtp_password or None, starttls=bool(settings.smtp_starttls) and not use_tls,
            use_tls=use_tls, timeout=float(settings.smtp_timeout_seconds),
        )


# ------------------------------------------------------------------ the message


def message_id(idempotency_key: str) -> str:
    """The same key always gives the same Message-ID: a resend is recognisable as the same message.

    160 bits of SHA-256 (a full 64-digit hash would make the header longer than 78 characters and the
    email package would fold it)."""
    return f"<{hashlib.sha256(idempotency_key.encode('utf-8')).hexdigest()[:40]}@{MESSAGE_ID_DOMAIN}>"


def recipients_of(recipient_field: str) -> list[str]:
    """The outbox `recipient` column: one address, or several separated by commas."""
    plain = recipient_field.strip()
    if plain and not any(c in plain for c in ',<>"( ') and plain.count("@") == 1:
        return [plain]  # the common case, without the address parser
    return [addr for _name, addr in getaddresses([recipient_field]) if addr]


class InvalidRecipient(ValueError):
    """The outbox row's recipient column holds no usable address."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message ready for the wire: envelope and RFC 5322 bytes (LF line endings; SMTP gets CRLF)."""

    mail_from: str  # envelope sender (address only)
    recipients: tuple[str, ...]
    data: bytes
    message_id: str
    outbox_id: int | None = None
    template: str = "messaggio"

    def as_email(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)


_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q = [chr(b) if b in _Q_SAFE else ("_" if b == 0x20 else f"={b:02X}") for b in range(256)]
_Q_WORD = 50  # encoded characters per encoded-word: "=?utf-8?q?" + 50 + "?=" fits a 78-character line


def _encoded_words(value: str) -> str:
    """RFC 2047 Q encoding, split between characters (never inside one) into folded encoded-words."""
    words, current, size = [], [], 0
    for ch in value:
        enc = "".join(_Q[b] for b in ch.encode("utf-8")) if not ch.isascii() else _Q[ord(ch)]
        if size + len(enc) > _Q_WORD:
            words.append("".join(current))
            current, size = [], 0
        current.append(enc)
        size += len(enc)
    words.append("".join(current))
    return "\n ".join(f"=?utf-8?q?{w}?=" for w in words)


def _header(name: str, value: str, *, fold: bool = True) -> str:
    """One header line. ASCII stays as it is (folded at spaces by the email package when long and `fold`);
    anything else is RFC 2047-encoded. CR/LF from the data never reach the header."""
    value = " ".join(value.split())
    if value.isascii():
        if not fold or len(name) + len(value) < 77:
            return f"{name}: {value}\n"
        return policy.default.fold(name, policy.default.header_store_parse(name, value)[1])
    return f"{name}: {_encoded_words(value)}\n"


@lru_cache(maxsize=32)
def _from_header(mail_from: str) -> tuple[str, str]:
    """(From: header line, envelope address); a display name may be non-ASCII."""
    name, address = parseaddr(mail_from)
    if not address:
        raise ValueError(f"mittente non valido: «{mail_from}»")
    if name and not name.isascii():
        return f"From: {_encoded_words(name)} <{address}>\n", address
    return policy.default.fold("From", policy.default.header_store_parse("From", mail_from)[1]), address


def _body(text: str, cte: str) -> bytes:
    data = text.encode("utf-8")
    if cte == "8bit":
        return data if data.endswith(b"\n") else data + b"\n"
    if cte != "quoted-printable":
        raise ValueError(f"codifica non gestita: {cte}")
    encoded = binascii.b2a_qp(data, istext=True)
    return encoded if encoded.endswith(b"\n") else encoded + b"\n"


def build_outgoing(row: Mapping[str, Any], rendered: RenderedMail, mail_from: str, *,
                   date: datetime | None = None, cte: str = "quoted-printable") -> OutgoingMessage:
    """The bytes of a multipart/alternative message (text/plain, then text/html), built directly.

    Written by hand because it sits on the hot path: the email package's EmailMessage costs ~2.5 ms a
    message to build and ~0.7 ms to flatten, more than the SMTP exchange itself. `build_message` parses
    these same bytes back into an EmailMessage, so the two cannot drift apart.
    `row` needs id, idempotency_key, recipient and template (an outbox row or a dict).
    """
    key = row["idempotency_key"]
    recipients = tuple(recipients_of(row["recipient"]))
    if not recipients:
        raise InvalidRecipient(f"nessun destinatario valido in «{row['recipient']}»")
    from_line, envelope_from = _from_header(mail_from)
    mid = message_id(key)
    boundary = "=_legami_" + mid[1:21]  # "=_" never appears in quoted-printable output
    text, html = _body(rendered.text, cte), _body(rendered.html, cte)
    if cte == "8bit" and (boundary.encode() in text or boundary.encode() in html):
        return build_outgoing(row, rendered, mail_from, date=date, cte="quoted-printable")
    head = "".join((
        _header("Subject", rendered.subject),
        from_line,
        _header("To", ", ".join(recipients)),
        f"Date: {format_datetime(date or datetime.now(timezone.utc))}\n",
        f"Message-ID: {mid}\n",
        "Auto-Submitted: auto-generated\n",  # RFC 3834: no auto-replies
        "Content-Language: it\n",
        _header("X-Legami-Key", key, fold=False),
        f"X-Legami-Id: {row['id']}\n",
        _header("X-Legami-Template", row["template"], fold=False),
        "MIME-Version: 1.0\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n',
    ))
    part = 'Content-Type: text/{sub}; charset="utf-8"\nContent-Transfer-Encoding: {cte}\n\n'
    data = b"".join((  # the line break before a boundary belongs to the boundary (RFC 2046): hence "\n--"
        head.encode("ascii"),
        f"--{boundary}\n".encode(), part.format(sub="plain", cte=cte).encode(), text,
        f"\n--{boundary}\n".encode(), part.format(sub="html", cte=cte).encode(), html,
        f"\n--{boundary}--\n".encode(),
    ))
    return OutgoingMessage(envelope_from, recipients, data, mid, row["id"], row["template"])


def build_message(row: Mapping[str, Any], rendered: RenderedMail, mail_from: str, *,
                  date: datetime | None = None, cte: str = "quoted-printable") -> EmailMessage:
    """multipart/alternative (text/plain then text/html) with a deterministic Message-ID, as an EmailMessage.

    Headers: Subject, From, To, Date, Message-ID (from the idempotency key), Auto-Submitted,
    Content-Language, X-Legami-Key, X-Legami-Id, X-Legami-Template.
    """
    return build_outgoing(row, rendered, mail_from, date=date, cte=cte).as_email()


# ------------------------------------------------------------------ results and errors


@dataclass(frozen=True)
class SendResult:
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> "550 5.1.1 reply"

    @property
    def partial(self) -> bool:
        return bool(self.refused)


class SendError(Exception):
    def __init__(self, reply: str, code: int | None = None):
        super().__init__(reply)
        self.reply = reply
        self.code = code


class SenderUnavailable(SendError):
    """No connection to the server (refused, timed out, bad greeting, TLS or login failed).
    The message was not tried: the dispatcher leaves it pending, without counting an attempt."""


class TransientSendError(SendError):
    """4xx, a timeout or a disconnect while sending: try again later."""


class PermanentSendError(SendError):
    """5xx: the server refused this message for good."""


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(str(message).split())}"


def classify(exc: BaseException) -> SendError:
    """aiosmtplib exception raised while sending a message -> transient or permanent, with the reply.

    4xx and connection trouble are transient, 5xx permanent. All recipients refused: transient if any
    of them got a 4xx (the 5xx ones will come back as partial refusals when the 4xx one is accepted).
    """
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, SMTPRecipientsRefused):
        replies = "; ".join(f"{r.recipient}: {_reply(r.code, r.message)}" for r in exc.recipients)
        codes = [r.code for r in exc.recipients]
        if any(400 <= c < 500 for c in codes):
            return TransientSendError(replies, min(codes))
        return PermanentSendError(replies, max(codes) if codes else None)
    if isinstance(exc, SMTPResponseException):
        reply = _reply(exc.code, exc.message)
        if 400 <= exc.code < 500:
            return TransientSendError(reply, exc.code)
        if exc.code >= 500:
            return PermanentSendError(reply, exc.code)
        return TransientSendError(reply, exc.code)  # odd code (e.g. -1): try again
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentSendError(f"non supportato dal server: {exc}")
    if isinstance(exc, (SMTPException, OSError, asyncio.TimeoutError)):
        return TransientSendError(f"{exc.__class__.__name__}: {exc}")
    raise TypeError(f"not an SMTP failure: {exc!r}")


# ------------------------------------------------------------------ senders


class Sender(Protocol):
    cte: str

    async def connect(self) -> None: ...

    async def send(self, msg: OutgoingMessage | EmailMessage) -> SendResult: ...

    async def close(self) -> None: ...


class SmtpSender:
    """One aiosmtplib connection, kept open for a batch."""

    cte = "quoted-printable"

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: aiosmtplib.SMTP | None = None

    @property
    def timeout(self) -> float:
        return self.config.timeout

    async def connect(self) -> None:
        c = self.config
        smtp = aiosmtplib.SMTP(
            hostname=c.host, port=c.port, timeout=c.timeout, use_tls=c.use_tls,
            start_tls=c.starttls if not c.use_tls else False, validate_certs=c.validate_certs,
        )
        try:
            await smtp.connect()
            if c.username:
                await smtp.login(c.username, c.password or "")
        except (SMTPException, OSError, asyncio.TimeoutError) as exc:
            smtp.close()
            if isinstance(exc, SMTPResponseException):
                raise SenderUnavailable(_reply(exc.code, exc.message), exc.code) from exc
            raise SenderUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        self._smtp = smtp

    async def send(self, msg: OutgoingMessage | EmailMessage) -> SendResult:
        if self._smtp is None or not self._smtp.is_connected:
            await self.connect()  # raises SenderUnavailable
        try:
            if isinstance(msg, OutgoingMessage):
                refused, _reply_text = await self._smtp.sendmail(msg.mail_from, list(msg.recipients), msg.data)
            else:
                refused, _reply_text = await self._smtp.send_message(msg)
        except (SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise classify(exc) from exc
        return SendResult({addr: _reply(r.code, r.message) for addr, r in refused.items()})

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit(timeout=min(self.config.timeout, 2.0))
        except (SMTPException, OSError, asyncio.TimeoutError):
            smtp.close()

    async def __aenter__(self) -> "SmtpSender":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class EmlSender:
    """Writes each message to `<outbox_dir>/<id>-<template>.eml` (UTF-8, 8bit: readable as text)."""

    cte = "8bit"
    timeout = 1.0

    def __init__(self, outbox_dir: str | os.PathLike = "outbox"):
        self.outbox_dir = Path(outbox_dir)

    async def connect(self) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, msg: OutgoingMessage | EmailMessage) -> Path:
        if isinstance(msg, OutgoingMessage):
            ident, template = msg.outbox_id, msg.template
        else:
            ident, template = msg.get("X-Legami-Id"), msg.get("X-Legami-Template") or "messaggio"
        if ident is None:
            ident = hashlib.sha256(str(msg["Message-ID"] if isinstance(msg, EmailMessage) else msg.message_id)
                                   .encode()).hexdigest()[:16]
        return self.outbox_dir / f"{ident}-{template}.eml"

    async def send(self, msg: OutgoingMessage | EmailMessage) -> SendResult:
        path = self.path_for(msg)
        tmp = path.with_suffix(".eml.tmp")
        try:
            tmp.write_bytes(msg.data if isinstance(msg, OutgoingMessage) else msg.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise TransientSendError(f"scrittura di {path} non riuscita: {exc}") from exc
        return SendResult()

    async def close(self) -> None:
        return None


def default_outbox_dir(settings: Any) -> Path:
    return Path(getattr(settings, "outbox_dir", None) or "outbox")


def sender_factory_from_settings(settings: Any):
    """SMTP when LEGAMI_SMTP_HOST is set, otherwise .eml files in settings.outbox_dir (default ./outbox)."""
    if settings.smtp_host:
        config = SmtpConfig.from_settings(settings)
        return lambda: SmtpSender(config)
    outbox_dir = default_outbox_dir(settings)
    return lambda: EmlSender(outbox_dir)
