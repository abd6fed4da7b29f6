"""`legami audit verify` and `legami audit checkpoint`: the audit chains checked, and their heads anchored.

verify: every case's transition chain (hashes, numbering), the case row against its history (state and version
equal to the last row and the number of rows, the stored head equal to the last hash), the health-read log's
chain against its head row, and every checkpoint file found against the chains as they are now (a chain that
no longer extends a checkpointed head was rewritten, even if all its hashes were recomputed).

checkpoint: every chain's (length, head) in a JSON file under the audit folder, with its root hash and an
HMAC signature with the instance's key; the root is also queued by e-mail to the Ufficio di Piano (through the
outbox), so that a copy lives where a database administrator cannot reach it.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from domain.audit import (
    DIARY_FIELDS,
    GENESIS,
    HEALTH_LOG_FIELDS,
    STEP_FIELDS,
    Break,
    checkpoint_root,
    sign,
    verify_chain,
)
from store import audit as store
from store import diary as diary_store
from store.uow import reading, writing

LOG_CHAIN = "registro accessi ai dati sanitari"


@dataclass
class Verification:
    cases: int = 0
    transitions: int = 0
    health_reads: int = 0
    diary_entries: int = 0
    checkpoints: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict[str, Any]:
        return {"esito": "integro" if self.ok else "alterato", "casi": self.cases, "passi": self.transitions,
                "letture_dati_sanitari": self.health_reads,
                "voci_diario": self.diary_entries, "checkpoint_verificati": self.checkpoints,
                "anomalie": [{"catena": b.chain, "riga": b.row, "problema": b.problem} for b in self.breaks]}


def heads(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every chain's (length, head hash), from the rows themselves."""
    with reading(engine) as conn:
        return store.chain_heads(conn)


def verify(engine: Engine, *, audit_dir: Path | None = None) -> Verification:
    result = Verification()
    with reading(engine) as conn:
        cases = {r.id: r for r in store.cases(conn)}
        prefixes = _checkpointed(audit_dir)
        seen: set[int] = set()
        for case_id, rows in store.transitions_by_case(conn):
            seen.add(case_id)
            chain = f"caso {case_id}"
            breaks, last, count = verify_chain(chain, rows, STEP_FIELDS, position="seq", label="passo")
            result.transitions += count
            result.breaks += breaks
            result.breaks += _case_row(chain, cases.get(case_id), rows[-1], last, count)
            result.breaks += _against_checkpoints(chain, f"caso:{case_id}", rows, prefixes, "hash")
        for case_id in sorted(set(cases) - seen):
            result.breaks.append(Break(f"caso {case_id}", "storia", "il caso non ha alcun passo registrato"))
        result.cases = len(cases)
        result.breaks += _diaries(conn, result, prefixes)
        log_rows = list(store.health_log(conn))
        breaks, last, count = verify_chain(LOG_CHAIN, log_rows, HEALTH_LOG_FIELDS, position="id", label="riga")
        result.health_reads = count
        result.breaks += breaks
        head = store.head(conn)
        if head is None or (head.length, head.hash) != (count, last if count else GENESIS):
            result.breaks.append(Break(LOG_CHAIN, "testa della catena",
                                       f"registrate {head.length if head else 0} letture, presenti {count}: "
                                       "righe tolte o aggiunte fuori da Legami"))
        result.breaks += _against_checkpoints(LOG_CHAIN, "registro_sanitario", log_rows, prefixes, "hash")
    result.checkpoints = len({name for name, _ in prefixes})
    return result


def _diaries(conn, result: Verification, prefixes) -> list[Break]:
    """Every case's diary chain (hashes, numbering) against its head row (entries removed from the end)."""
    found: list[Break] = []
    if not diary_store.present(conn):
        return found
    heads = diary_store.heads(conn)
    seen: set[int] = set()
    for case_id, rows in diary_store.by_case(conn):
        seen.add(case_id)
        chain = f"diario del caso {case_id}"
        breaks, last, count = verify_chain(chain, rows, DIARY_FIELDS, position="seq", label="voce")
        result.diary_entries += count
        found += breaks
        if heads.get(case_id) != (count, last):
            found.append(Break(chain, "testa della catena", f"registrate {heads.get(case_id, (0,))[0]} voci, "
                                                            f"presenti {count}: voci tolte o aggiunte fuori da Legami"))
        found += _against_checkpoints(chain, diary_store.chain_name(case_id), rows, prefixes, "hash")
    for case_id in sorted(set(heads) - seen):
        found.append(Break(f"diario del caso {case_id}", "testa della catena",
                           f"registrate {heads[case_id][0]} voci, presenti 0: voci tolte fuori da Legami"))
    return found


def _case_row(chain: str, case: Any, last_row: dict[str, Any], last: str, count: int) -> list[Break]:
    if case is None:
        return [Break(chain, "caso", "la storia esiste ma il caso no")]
    found = []
    if case.version != count:
        found.append(Break(chain, "caso", f"versione {case.version} ma {count} passi nella storia"))
    if case.state != last_row["to_state"]:
        found.append(Break(chain, "caso", f"stato {case.state} ma l'ultimo passo porta a {last_row['to_state']}"))
    if case.audit_hash != last:
        found.append(Break(chain, "caso", "la testa della catena registrata sul caso non è l'ultimo passo"))
    return found


def _checkpointed(audit_dir: Path | None) -> list[tuple[str, dict[str, tuple[int, str]]]]:
    if audit_dir is None or not audit_dir.is_dir():
        return []
    found = []
    for path in sorted(audit_dir.glob("checkpoint-*.json.gz")):
        body = json.loads(gzip.decompress(path.read_bytes()))
        found.append((path.name, {k: (v[0], v[1]) for k, v in body["catene"].items()}))
    return found


def _against_checkpoints(chain: str, key: str, rows: list[dict[str, Any]],
                         prefixes: list[tuple[str, dict[str, tuple[int, str]]]], column: str) -> list[Break]:
    found = []
    for name, chains in prefixes:
        if key not in chains:
            continue
        length, head = chains[key]
        if length > len(rows) or rows[length - 1][column] != head:
            found.append(Break(chain, f"checkpoint {name}",
                               f"i primi {length} passi non sono più quelli registrati nel checkpoint: storia riscritta"))
    return found


def audit_key(secret: str) -> bytes:
    """The checkpoints' signing key, derived from LEGAMI_SECRET_KEY (changing the secret changes it)."""
    return hashlib.sha256(b"legami-audit-checkpoint\n" + secret.encode()).digest()


def daily_checkpoint(engine: Engine, *, audit_dir: Path, key: bytes, now: datetime | None = None) -> dict[str, Any]:
    """The morning's checkpoint, and its root queued by e-mail to every planning-office user (once a day)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    written = checkpoint(engine, audit_dir=audit_dir, key=key, now=now)
    payload = {"scritto_il": now.isoformat(), "catene": written["catene"], "radice": written["radice"],
               "firma": written["firma"]}
    with writing(engine) as conn:
        recipients = store.planning_office_emails(conn)
        store.queue_once(conn, [{
            "idempotency_key": f"audit:{now:%Y-%m-%d}:{email}", "event": "audit.checkpoint", "case_id": None,
            "recipient": email, "template": "audit_checkpoint", "payload": payload, "created_at": now,
            "status": "pending", "attempts": 0, "next_attempt_at": now} for email in recipients])
    return {**written, "destinatari": len(recipients)}


def checkpoint(engine: Engine, *, audit_dir: Path, key: bytes, now: datetime | None = None) -> dict[str, Any]:
    """Write today's checkpoint of every chain's head; returns its summary (file, root, signature)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    chains = heads(engine)
    root = checkpoint_root((name, n, h) for name, (n, h) in chains.items())
    body = {"scritto_il": now.isoformat(), "radice": root, "firma": sign(root, key),
            "catene": {name: [n, h] for name, (n, h) in sorted(chains.items())}}
    audit_dir.mkdir(parents=True, exist_ok=True)
    path = audit_dir / f"checkpoint-{now:%Y%m%d-%H%M%S}.json.gz"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(json.dumps(body, sort_keys=True).encode()))
    tmp.replace(path)
    return {"file": str(path), "radice": root, "firma": body["firma"], "catene": len(chains)}
