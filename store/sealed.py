"""Health data sealed: the health-class keys of a case's data are kept apart from the case row, encrypted.

A key of `case_file.data` or `case_transition.data` whose class is HEALTH (as the case type's declaration
classifies it: `FieldMap.of`, unclassified keys count as health) is taken out of the JSON and stored in
`health_data` as one AES-256-GCM encrypted JSON object per (case_id, seq): seq 0 is the case's current data,
seq n the audit row of step n. The additional authenticated data binds a ciphertext to its (case_id, seq), so a
ciphertext moved to another case or step does not decrypt.

Keys come from settings (`LEGAMI_HEALTH_KEYS` = "id:base64key,..."; the first encrypts, all decrypt); in
development without one, a key derived from `LEGAMI_SECRET_KEY` (id "dev"). `legami keys rotate`
(`reseal_all`) re-encrypts every row with the current key.

Nested health parts of a key that is not health data itself (the FNA call's ranking snapshot: its
`posizioni[].dettaglio.adl`, `.iadl`, `.gravita` are, its protocols and scores are not) are split out too, down
to the declared paths (`FieldMap.split_health`): the sealed object then holds, under that key, the same shape with
only the health leaves (`{"posizioni": [{"dettaglio": {"adl": "15"}}, ...]}`), and `merge` puts them back.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.fields import FieldClass, merge_health

DEV_KEY_ID = "dev"


class HealthKeyError(ValueError):
    """A missing or unreadable health key (the message is Italian and names the key)."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: Mapping[str, bytes]

    def aead(self, key_id: str) -> AESGCM:
        key = self.keys.get(key_id)
        if key is None:
            raise HealthKeyError(f"chiave dei dati sanitari «{key_id}» assente da LEGAMI_HEALTH_KEYS: "
                                 "i dati cifrati con essa non si possono leggere")
        return AESGCM(key)


def parse_keys(text: str) -> dict[str, bytes]:
    """`id:base64key,...` into {id: 32-byte key}, in order; an Italian error naming the bad entry."""
    keys: dict[str, bytes] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise HealthKeyError(f"LEGAMI_HEALTH_KEYS: voce «{key_id or entry[:8]}» senza il formato id:chiave")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise HealthKeyError(f"LEGAMI_HEALTH_KEYS: la chiave «{key_id}» non è in base64") from None
        if len(key) != 32:
            raise HealthKeyError(f"LEGAMI_HEALTH_KEYS: la chiave «{key_id}» deve essere di 256 bit (32 byte)")
        if key_id in keys:
            raise HealthKeyError(f"LEGAMI_HEALTH_KEYS: la chiave «{key_id}» compare due volte")
        keys[key_id] = key
    return keys


def dev_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"legami-health-key\n" + secret_key.encode()).digest()


def new_key_entry(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


_KEYRINGS: dict[tuple[str, str], Keyring] = {}


def keyring() -> Keyring:
    from config.settings import get_settings

    s = get_settings()
    cache_key = (s.health_keys, s.secret_key)
    ring = _KEYRINGS.get(cache_key)
    if ring is None:
        keys = parse_keys(s.health_keys)
        if keys:
            ring = Keyring(next(iter(keys)), keys)
        else:
            ring = Keyring(DEV_KEY_ID, {DEV_KEY_ID: dev_key(s.secret_key)})
        _KEYRINGS[cache_key] = ring
    return ring


def _aad(case_id: int, seq: int) -> bytes:
    return f"legami:{case_id}:{seq}".encode()


def seal(health: Mapping[str, Any], case_id: int, seq: int, ring: Keyring | None = None) -> tuple[str, bytes, bytes]:
    """(key_id, nonce, ciphertext) of a health part."""
    ring = ring or keyring()
    nonce = os.urandom(12)
    plaintext = json.dumps(health, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return ring.current, nonce, ring.aead(ring.current).encrypt(nonce, plaintext, _aad(case_id, seq))


def unseal(key_id: str, nonce: bytes, ciphertext: bytes, case_id: int, seq: int,
           ring: Keyring | None = None) -> dict[str, Any]:
    ring = ring or keyring()
    return json.loads(ring.aead(key_id).decrypt(bytes(nonce), bytes(ciphertext), _aad(case_id, seq)))


_HEALTH_KEYS: dict[tuple[int, str, str], bool] = {}


def is_health(case_type: str, key: str) -> bool:
    """Whether a top-level key is health data (a type nobody declared: every key is, fail closed)."""
    from domain.registry import find_case_type, generation

    cache_key = (generation(), case_type, key)
    found = _HEALTH_KEYS.get(cache_key)
    if found is None:
        ct = find_case_type(case_type)
        found = ct is None or ct.field_map.of(key) is FieldClass.HEALTH
        _HEALTH_KEYS[cache_key] = found
    return found


_PLAIN_KEYS: dict[tuple[int, str], frozenset[str]] = {}


def _plain_keys(case_type: str) -> frozenset[str]:
    """The top-level keys of a type that are not health data (any other key is: fail closed)."""
    from domain.fields import COMMON_FIELDS
    from domain.registry import find_case_type, generation

    cache_key = (generation(), case_type)
    found = _PLAIN_KEYS.get(cache_key)
    if found is None:
        ct = find_case_type(case_type)
        names = set() if ct is None else set(ct.field_map.top) | set(COMMON_FIELDS)
        found = _PLAIN_KEYS[cache_key] = frozenset(n for n in names if not is_health(case_type, n))
    return found


_NESTED_ROOTS: dict[tuple[int, str], frozenset[str]] = {}


def _nested_roots(case_type: str) -> frozenset[str]:
    """The non-health top-level keys of a type whose nested parts are classified (they may hold health parts)."""
    from domain.registry import find_case_type, generation

    cache_key = (generation(), case_type)
    found = _NESTED_ROOTS.get(cache_key)
    if found is None:
        ct = find_case_type(case_type)
        names = frozenset() if ct is None else _plain_keys(case_type)
        found = _NESTED_ROOTS[cache_key] = frozenset(n for n in names if ct.field_map.has_nested(n))
    return found


def split(case_type: str, data: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the data without its health parts, the health parts): the health-class top-level keys whole, and the
    nested health parts of the other keys (under their key, in the value's shape; `merge` is the inverse)."""
    if not data:
        return {}, {}
    plain_keys = _plain_keys(case_type)
    health_keys = [key for key in data if key not in plain_keys]
    nested = _nested_roots(case_type)
    parts: dict[str, Any] = {}
    if nested:
        from domain.registry import find_case_type

        field_map = find_case_type(case_type).field_map
        for key in nested.intersection(data):
            value, part = field_map.split_health(key, data[key])
            if part is not None:
                parts[key] = (value, part)
    if not health_keys and not parts:  # most steps: nothing to seal, the data as it is
        return dict(data), {}
    plain = {k: parts[k][0] if k in parts else v for k, v in data.items() if k not in health_keys}
    return plain, {**{k: data[k] for k in health_keys}, **{k: part for k, (_, part) in parts.items()}}


def merge(plain: Mapping[str, Any] | None, health: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data as recorded: `plain` with its sealed health parts (`split`'s second half) put back."""
    return merge_health(dict(plain or {}), dict(health)) if health else dict(plain or {})
