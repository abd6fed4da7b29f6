"""Health data sealed: the health-class keys of a case's data are kept apart from the case row, encrypted.

A key of `case_file.data` or `case_transition.data` whose class is HEALTH (as the case type's declaration
classifies it: `FieldMap.of`, unclassified keys count as health) is taken out of the JSON and stored in
`health_data` as one AES-256-GCM encrypted JSON object per (case_id, seq): seq 0 is the case's current data,
seq n the audit row of step n. The additional authenticated data binds a ciphertext to its (case_id, seq), so a
ciphertext moved to another case or step does not decrypt.

Keys come from settings (`LEGAMI_HEALTH_KEYS` = "id:base64key,..."; the first encrypts, all decrypt); in
development without one, a key derived from `LEGAMI_SECRET_KEY` (id "dev"). `legami keys rotate`
(`reseal_all`) re-encrypts every row with the current key.

Nested health parts of administrative keys (the FNA call's ranking snapshot `posizioni[].dettaglio.adl`) are not
split out here: they stay in the case row, redacted on reading like any nested health path.
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

from domain.fields import FieldClass

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


def split(case_type: str, data: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the non-health keys, the health keys) of a data object."""
    if not data:
        return {}, {}
    plain_keys = _plain_keys(case_type)
    health_keys = [key for key in data if key not in plain_keys]
    if not health_keys:  # most steps: nothing to seal, the data as it is
        return dict(data), {}
    plain = {k: v for k, v in data.items() if k not in health_keys}
    return plain, {k: data[k] for k in health_keys}
