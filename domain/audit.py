"""Tamper-evident history: every audit row carries a hash over its content and the previous row's hash. Pure.

Chains:
- a case's transitions (`case_transition`), one chain per case, in `seq` order: the first row's previous hash is
  `GENESIS`; the case row keeps the head (`case_file.audit_hash`) so a transition extends it without a read;
- the health-read log (`health_access_log`), one chain for the whole log, in `id` order;
- a case's diary (`diary_entry`), one chain per case, in `seq` order, its head in `audit_head` ("diario:<id>"),
  health entries hashed with their sealed text and participants as written.

`row_hash(previous, fields)` is SHA-256 over the previous hash and a canonical JSON of the row's content (sorted
keys, UTC instants in ISO 8601, decimals as text), so the same row always hashes the same on SQLite and
PostgreSQL. `verify_chain` walks rows and names each break. A checkpoint (`checkpoint_root`) condenses every
chain's head into one root hash, which is written out of the database's reach (a file, an e-mail to the Ufficio
di Piano): rewriting history AND recomputing every hash after it is then still detected against the checkpoint.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from json.encoder import encode_basestring as _json_text  # the encoder's own escaping (ensure_ascii=False), in C
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64
TRANSITION_FIELDS = ("case_id", "seq", "transition", "from_state", "to_state", "actor", "actor_role",
                     "recorded_at", "effective_at", "reason", "data")
# a step's fields hashed only when set (added later: the rows written before keep their hash)
OPTIONAL_FIELDS = frozenset({"on_behalf_of"})
STEP_FIELDS = (*TRANSITION_FIELDS, "on_behalf_of")  # what a step's hash covers now (0007 knew TRANSITION_FIELDS)
HEALTH_LOG_FIELDS = ("case_id", "username", "role", "read_at", "fields", "context")
DIARY_FIELDS = ("case_id", "seq", "kind", "occurred_at", "participants", "text", "data_class", "author",
                "author_role", "recorded_at", "supersedes")


_AS_IS = (str, int, bool, type(None))


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:  # most of a step's data: returned at once (this runs on every transition)
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return _utc_text(aware.astimezone(timezone.utc))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # PostgreSQL's jsonb gives 1e16 back as 10000000000000000: hash the same number
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@lru_cache(maxsize=4096)
def _utc_text(utc: datetime) -> str:
    """An instant already in UTC as text, `strftime("%Y-%m-%dT%H:%M:%S.%fZ")`'s very characters (strftime itself
    costs ~5 us; kept for years before 1000, which it writes without padding). Kept per UTC datetime, where equal
    means the same instant (two local times of one zone compare equal across a summer-time fold: never the key),
    and the steps of a file share their recorded and effective instants."""
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
                                                   utc.microsecond)


# json.dumps with these options, built once (json.dumps builds an encoder per call when given options)
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def canonical(fields: Mapping[str, Any], names: Iterable[str]) -> bytes:
    """The bytes a row's hash covers: its named fields as canonical JSON."""
    return _CANONICAL_JSON({n: _plain(fields.get(n)) for n in names
                            if n not in OPTIONAL_FIELDS or fields.get(n) is not None}).encode()


def row_hash(previous: str, fields: Mapping[str, Any], names: Iterable[str] = TRANSITION_FIELDS) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + canonical(fields, names)).hexdigest()


def step_canonical(case_id: int, seq: int, transition: str, from_state: str | None, to_state: str, actor: str,
                   actor_role: str, recorded_at: datetime, effective_at: datetime, reason: str | None, data: Any,
                   on_behalf_of: str | None) -> bytes:
    """canonical(a step's fields, STEP_FIELDS), written out in the keys' sorted order for a history row's known
    shape (every step, every import row: ~2x faster), the very bytes: each text through the encoder's own string
    escaping, ints as the encoder writes them, instants (their text needs no escaping) and data as canonical has
    them. Any other type of value goes through canonical itself (tests/unit/test_audit_canonical.py compares)."""
    texts = (transition, from_state, to_state, actor, actor_role, reason, on_behalf_of)
    if (type(case_id) is not int or type(seq) is not int or type(recorded_at) is not datetime
            or type(effective_at) is not datetime or not all(t is None or type(t) is str for t in texts)):
        return canonical({"case_id": case_id, "seq": seq, "transition": transition, "from_state": from_state,
                          "to_state": to_state, "actor": actor, "actor_role": actor_role, "recorded_at": recorded_at,
                          "effective_at": effective_at, "reason": reason, "data": data,
                          "on_behalf_of": on_behalf_of}, STEP_FIELDS)
    behalf = "" if on_behalf_of is None else ',"on_behalf_of":' + _json_text(on_behalf_of)
    return "".join((
        '{"actor":', _text(actor), ',"actor_role":', _text(actor_role), ',"case_id":', int.__repr__(case_id),
        ',"data":', _CANONICAL_JSON(_plain(data)), ',"effective_at":"', _plain(effective_at),
        '","from_state":', _text(from_state), behalf, ',"reason":', _text(reason),
        ',"recorded_at":"', _plain(recorded_at), '","seq":', int.__repr__(seq),
        ',"to_state":', _text(to_state), ',"transition":', _text(transition), "}")).encode()


def _text(value: str | None) -> str:
    return "null" if value is None else _json_text(value)


def step_hash(previous: str, *fields: Any) -> str:
    """row_hash(previous, a step's fields, STEP_FIELDS) from `step_canonical`'s arguments, in its order."""
    return hashlib.sha256(previous.encode() + b"\n" + step_canonical(*fields)).hexdigest()


@dataclass(frozen=True)
class Break:
    """One place where a chain does not hold, in Italian: which chain, which row, what is wrong."""

    chain: str  # "caso 17", "registro accessi ai dati sanitari"
    row: str  # "passo 3", "riga 120"
    problem: str

    def __str__(self) -> str:
        return f"{self.chain}, {self.row}: {self.problem}"


def verify_chain(chain: str, rows: Iterable[Mapping[str, Any]], names: Iterable[str], *, position: str,
                 label: str) -> tuple[list[Break], str, int]:
    """Walk `rows` (in chain order, each with a stored `hash` and its `position` key): the breaks found, the
    last stored hash and the number of rows."""
    names = tuple(names)
    previous, breaks, count = GENESIS, [], 0
    expected_position = 1
    for row in rows:
        count += 1
        where = f"{label} {row[position]}"
        if position == "seq" and row[position] != expected_position:
            breaks.append(Break(chain, where, f"numerazione interrotta (atteso {label} {expected_position}): "
                                              "una riga è stata cancellata o inserita"))
            expected_position = row[position]
        expected_position += 1
        computed = row_hash(previous, row, names)
        if row.get("hash") != computed:
            breaks.append(Break(chain, where, "impronta non corrispondente: la riga è stata modificata, o una riga "
                                              "precedente è stata tolta"))
        previous = row.get("hash") or computed
    return breaks, previous, count


def checkpoint_root(heads: Iterable[tuple[str, int, str]]) -> str:
    """One hash over every chain's (name, length, head hash), sorted by name."""
    digest = hashlib.sha256()
    for name, length, head in sorted(heads):
        digest.update(f"{name}:{length}:{head}\n".encode())
    return digest.hexdigest()


def sign(root: str, key: bytes) -> str:
    """An HMAC-SHA256 of a checkpoint's root with the instance's audit key (who holds the key can tell a
    checkpoint written by Legami from one written by hand)."""
    return hmac.new(key, root.encode(), hashlib.sha256).hexdigest()
