"""E-mails per second: `dispatch_outbox` vs a raw aiosmtplib loop, to the same loopback SMTP server.

    python -m bench.outbox --mails 10000 [--db postgresql|sqlite] [--chunks 5] [--batch-size 200]
                           [--profile FILE] [--no-record]

* server: aiosmtpd in its own process on 127.0.0.1 (a sink that counts messages per envelope sender and
  the distinct Message-IDs), so that it does not share the client's interpreter.
* raw bytes:   the same messages, rendered and serialised beforehand (not timed), sent as bytes with
               `SMTP.sendmail` in a loop on ONE connection. The strict lower bound: no database, no
               rendering, no MIME building, nothing but the SMTP exchange. The goal is measured on this.
* raw message: the same rendered mails as `email.message.EmailMessage` objects built beforehand with the
               email package's API (set_content/add_alternative), sent with `SMTP.send_message` on ONE
               connection: aiosmtplib's usual idiom (it flattens each message while sending).
* dispatch: `notifications.dispatch.dispatch_outbox` over the outbox table: claim, render, build, send
            (a connection per batch), record every outcome.

The mails are split into chunks; each chunk's rows are inserted (not timed), then raw and dispatch run
one after the other, alternating which goes first, so that table growth and machine noise hit both.
Afterwards the run checks itself: the server received every dispatched message exactly once (distinct
Message-IDs) and every row is 'sent'.

Database: PostgreSQL by default (`LEGAMI_BENCH_PG_URL`, default database legami_bench, created if missing),
in its own schema `outbox_bench` (dropped and recreated) so that it never touches what bench.transitions
keeps in `public`; or a temporary SQLite file. Figures are appended to bench/RESULTS.md (--no-record: not).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import psycopg
import sqlalchemy as sa

from notifications.dispatch import dispatch_outbox
from notifications.render import render
from notifications.sender import SmtpConfig, SmtpSender, build_outgoing
from store.db import make_engine, migrate, normalise_url
from store.tables import outbox_t

UTC = timezone.utc
DEFAULT_PG_URL = os.environ.get("LEGAMI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/legami_bench")
SCHEMA = "outbox_bench"
GOAL = 0.80
RESULTS = Path(__file__).parent / "RESULTS.md"
MAIL_FROM = "legami@bench.invalid"
RAW_FROM = "raw@bench.invalid"
RAW_MSG_FROM = "rawmsg@bench.invalid"
STATS_RCPT = "stats@bench.invalid"
BASE_URL = "https://legami.example.org"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


# ------------------------------------------------------------------ the SMTP sink (own process)


class Sink:
    def __init__(self):
        self.count: dict[str, int] = defaultdict(int)
        self.ids: dict[str, set[bytes]] = defaultdict(set)

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos == [STATS_RCPT]:
            stats = {k: [self.count[k], len(self.ids[k])] for k in self.count}
            return "250 " + json.dumps(stats, separators=(",", ":"))
        content = envelope.content
        i = content.find(b"\nMessage-ID: ")
        mid = content[i + 13:content.find(b"\n", i + 13)].strip() if i >= 0 else b""
        self.count[envelope.mail_from] += 1
        self.ids[envelope.mail_from].add(mid)
        return "250 OK"


def serve(port: int) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def server_stats(port: int) -> dict[str, list[int]]:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False) as smtp:
        _refused, reply = await smtp.sendmail(MAIL_FROM, [STATS_RCPT], b"Subject: stats\r\n\r\nstats\r\n")
    return json.loads(reply)


# ------------------------------------------------------------------ database


def prepare_database(kind: str, pg_url: str, tmpdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmpdir / 'outbox_bench.db'}"
        migrate(url)
        return url
    target = sa.engine.make_url(normalise_url(pg_url))
    conninfo = dict(host=target.host or "127.0.0.1", port=target.port or 5432, user=target.username or "postgres")
    if target.password:
        conninfo["password"] = target.password
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone():
            admin.execute(f'CREATE DATABASE "{target.database}"')
    with psycopg.connect(dbname=target.database, autocommit=True, **conninfo) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    url = target.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)
    migrate(url)
    return url


# ------------------------------------------------------------------ the mails


def payload(i: int) -> tuple[str, dict]:
    """Mostly digests of 1-5 items (the daily bulk), some case notices."""
    if i % 10 == 9:
        return "sad_ente_scegli_ente", {"case_id": 1000 + i, "case_type": "sad_caso", "transizione": "Scelta dell'ente",
                                        "efficace_il": "2026-11-20T08:30:00+00:00", "ente": f"ENTE{i % 40:02d}"}
    voci = []
    for k in range(1 + i % 5):
        cat = ("scadenza", "scaduta", "escalation", "obbligo")[(i + k) % 4]
        caso = None if cat == "obbligo" else 10_000 + i * 7 + k
        voci.append({
            "categoria": cat, "caso_id": caso, "tipo_caso": None if caso is None else "Patto gener-attivo",
            "etichetta": ("Firma del patto", "Verifica intermedia", "Rendicontazione regionale FNA")[k % 3],
            "scadenza": (datetime(2026, 11, 20) + timedelta(days=(i + k) % 30 - 10)).date().isoformat(),
            "giorni": (i + k) % 30 - 10, "comune": None if caso is None else "Crema",
            "fonte": ("configured", "statutory")[k % 2], "persona": None if caso is None else "B. L.",
            "link": f"/casi/{caso}" if caso else "/obblighi",
            "promemoria_precedenti": [{"destinatario": "as.rossi", "il": "2026-11-15"}] if cat == "escalation" else [],
        })
    return "digest", {"destinatario": {"username": f"utente{i}", "nome": f"Utente {i}", "ruolo": "social_worker"},
                      "giorno": "2026-11-20", "voci": voci}


def outbox_rows(run: str, start: int, n: int) -> list[dict]:
    rows = []
    for i in range(start, start + n):
        template, body = payload(i)
        rows.append({
            "idempotency_key": f"bench:{run}:{i}", "event": "bench", "case_id": None,
            "recipient": f"utente{i:05d}@bench.example.org", "template": template, "payload": body,
            "created_at": NOW, "status": "pending", "attempts": 0, "next_attempt_at": NOW,
        })
    return rows


def prebuilt(engine, keys: list[str]):
    """The raw loop's messages: the same rows, rendered and built before timing."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t).where(outbox_t.c.idempotency_key.in_(keys))
                            .order_by(outbox_t.c.id)).all()
    return [build_outgoing(r._mapping, render(r.template, r.payload, base_url=BASE_URL), MAIL_FROM, date=NOW)
            for r in rows]


def email_messages(outgoing) -> list[EmailMessage]:
    """The same mails built the usual way with the email package (not timed)."""
    out = []
    for o in outgoing:
        parsed = o.as_email()
        msg = EmailMessage()
        for name in ("Subject", "From", "To", "Date", "Message-ID", "X-Legami-Key"):
            msg[name] = str(parsed[name])
        msg.set_content(parsed.get_body(("plain",)).get_content())
        msg.add_alternative(parsed.get_body(("html",)).get_content(), subtype="html")
        out.append(msg)
    return out


async def raw_message_loop(port: int, messages: list[EmailMessage]) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False) as smtp:
        for msg in messages:
            await smtp.send_message(msg, sender=RAW_MSG_FROM)


async def raw_loop(port: int, messages) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False) as smtp:
        for msg in messages:
            await smtp.sendmail(RAW_FROM, list(msg.recipients), msg.data)


# ------------------------------------------------------------------ the run


def run(args) -> dict:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.outbox", "--serve", str(port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    try:
        assert server.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as tmp:
            url = prepare_database(args.db, args.pg_url, Path(tmp))
            engine = make_engine(url)
            try:
                return measure(args, engine, port)
            finally:
                engine.dispose()
    finally:
        server.stdin.close()
        server.wait(10)


def measure(args, engine, port: int) -> dict:
    config = SmtpConfig(host="127.0.0.1", port=port, starttls=False, timeout=10)
    factory = lambda: SmtpSender(config)  # noqa: E731
    run_tag = datetime.now().strftime("%Y%m%d%H%M%S")
    chunk = -(-args.mails // args.chunks)
    warm = outbox_rows(run_tag + "w", 0, 200)
    with engine.begin() as conn:
        conn.execute(outbox_t.insert(), warm)
    asyncio.run(raw_loop(port, prebuilt(engine, [r["idempotency_key"] for r in warm])))
    dispatch_outbox(engine, sender_factory=factory, mail_from=MAIL_FROM, base_url=BASE_URL, now=NOW)

    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    profiler = cProfile.Profile() if args.profile else None
    orders = (("bytes", "message", "dispatch"), ("dispatch", "bytes", "message"), ("message", "dispatch", "bytes"))
    for c, start in enumerate(range(0, args.mails, chunk)):
        n = min(chunk, args.mails - start)
        rows = outbox_rows(run_tag, start, n)
        with engine.begin() as conn:
            conn.execute(outbox_t.insert(), rows)
        outgoing = prebuilt(engine, [r["idempotency_key"] for r in rows])
        messages = email_messages(outgoing)
        for which in orders[c % 3]:
            t, t_cpu = time.perf_counter(), time.process_time()
            if which == "bytes":
                asyncio.run(raw_loop(port, outgoing))
            elif which == "message":
                asyncio.run(raw_message_loop(port, messages))
            else:
                if profiler:
                    profiler.enable()
                result = dispatch_outbox(engine, sender_factory=factory, mail_from=MAIL_FROM, base_url=BASE_URL,
                                         now=NOW, batch_size=args.batch_size)
                if profiler:
                    profiler.disable()
                assert (result.sent, result.failed, result.retried, result.error) == (n, 0, 0, None), result
            wall[which] += time.perf_counter() - t
            cpu[which] += time.process_time() - t_cpu
        print(f"  chunk {c + 1}: {n} mails", file=sys.stderr, flush=True)

    stats = asyncio.run(server_stats(port))
    with engine.connect() as conn:
        by_status = dict(conn.execute(sa.select(outbox_t.c.status, sa.func.count())
                                      .group_by(outbox_t.c.status)).all())
    total = args.mails + len(warm)
    for sender, expected in ((MAIL_FROM, total), (RAW_FROM, total), (RAW_MSG_FROM, args.mails)):
        assert stats.get(sender) == [expected, expected], (sender, stats)  # every message once
    assert by_status == {"sent": total}, by_status
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"notifications|sqlalchemy|aiosmtplib", 30)
    rate = {k: args.mails / v for k, v in wall.items()}
    return {"mails": args.mails, "db": args.db, "chunks": args.chunks, "batch_size": args.batch_size,
            "wall": dict(wall), "rate": rate,
            "cpu_ms": {k: 1000 * v / args.mails for k, v in cpu.items()},
            "ratio": rate["dispatch"] / rate["bytes"], "ratio_message": rate["dispatch"] / rate["message"],
            "server": stats, "load": os.getloadavg()}


LABELS = {"bytes": "raw loop, pre-serialised bytes (`sendmail`)",
          "message": "raw loop, pre-built EmailMessage (`send_message`)", "dispatch": "dispatch_outbox"}


def command(args) -> str:
    return (f"python -m bench.outbox --mails {args.mails} --db {args.db} --chunks {args.chunks} "
            f"--batch-size {args.batch_size}")


def record(args, r: dict) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    block = []
    if "## Outbox dispatch" not in text:
        block += ["", "## Outbox dispatch (bench/outbox.py)", "",
                  "E-mails per second to a loopback aiosmtpd sink in its own process. `dispatch_outbox` (claim a "
                  "batch, render, build, send on one connection per batch, commit each outcome) against two raw "
                  "aiosmtplib loops sending the same pre-rendered messages on one connection, same run, chunks "
                  f"interleaved. Goal: dispatch / raw bytes loop >= {GOAL:.2f}.", ""]
    block += [
        f"### {datetime.now():%Y-%m-%d %H:%M} – {r['db']}, {r['mails']} mails",
        "",
        f"`{command(args)}` ({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU, "
        f"load average {r['load'][0]:.1f} at the end)",
        "",
        "| | seconds | mails/s | client CPU ms/mail |",
        "|---|---:|---:|---:|",
        *[f"| {LABELS[k]} | {r['wall'][k]:.2f} | {r['rate'][k]:.0f} | {r['cpu_ms'][k]:.2f} |"
          for k in ("bytes", "message", "dispatch")],
        "",
        f"Ratio dispatch / raw bytes loop: **{r['ratio']:.2f}** "
        f"({'meets' if r['ratio'] >= GOAL else 'below'} the {GOAL:.2f} goal); "
        f"dispatch / raw send_message loop: {r['ratio_message']:.2f}.",
        "Checked: the server received every message of each sender exactly once (distinct Message-IDs), "
        "every row is 'sent'.",
        "",
    ]
    entry = "\n".join(block)
    start = text.find("## Outbox dispatch")
    end = text.find("\n## ", start + 1) if start >= 0 else -1
    if end < 0:  # our section is the last one (or new): append
        with RESULTS.open("a", encoding="utf-8") as f:
            if text and not text.endswith("\n"):
                f.write("\n")
            f.write(entry)
    else:  # at the end of our section, leaving the other sections as they are
        RESULTS.write_text(text[:end].rstrip("\n") + "\n\n" + entry.strip("\n") + "\n" + text[end:],
                           encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mails", type=int, default=10_000)
    p.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL)
    p.add_argument("--chunks", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=200)
    p.add_argument("--profile", metavar="FILE")
    p.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    p.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    r = run(args)
    print(f"{r['db']}: {r['mails']} mails (load average {r['load'][0]:.1f})")
    for k in ("bytes", "message", "dispatch"):
        print(f"  {LABELS[k]:52s} {r['rate'][k]:7.0f} mails/s  ({r['wall'][k]:.2f} s, "
              f"client CPU {r['cpu_ms'][k]:.2f} ms/mail)")
    print(f"  ratio dispatch / raw bytes: {r['ratio']:.2f} (goal >= {GOAL:.2f}); "
          f"dispatch / raw send_message: {r['ratio_message']:.2f}")
    if not args.no_record:
        record(args, r)
    return 0 if r["ratio"] >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
