"""A case's documents on disk and in the database.

The bytes live under LEGAMI_DOCUMENTS_DIR (default: a «documenti» folder beside the SQLite file; on PostgreSQL
`.legami/documenti`), content-addressed: `<root>/<sha[:2]>/<sha[2:4]>/<sha>`. A file is written before its row,
atomically (a temporary file in the same folder, fsync, rename), so a row never names a missing or half-written
file; the same content uploaded twice is kept once. A health-class document's bytes are sealed (AES-GCM with the
health keys of store/sealed.py, bound to its SHA-256) in `<sha>.sigillato`, never kept in clear. Reading checks
the SHA-256 again: a file changed on disk is refused, not served.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.sealed import Keyring, keyring
from store.tables import case_document_t
from store.uow import reading

t = case_document_t
_SEALED_MAGIC = b"LGSD1"


class DocumentFileError(RuntimeError):
    """A document's file is missing or does not match its SHA-256."""


def documents_root(bind: Engine | Connection) -> Path:
    """Where the documents of this database are kept."""
    from config.settings import get_settings

    configured = get_settings().documents_dir
    if configured is not None:
        return Path(configured)
    return default_root(bind.engine.url if isinstance(bind, Connection) else bind.url)


def default_root(url: str | sa.engine.URL) -> Path:
    """Where documents go when LEGAMI_DOCUMENTS_DIR is not set: beside the SQLite file, else .legami/documenti."""
    url = sa.engine.make_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / "documenti"
    return Path(".legami/documenti")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _path(root: Path, sha: str, sealed: bool) -> Path:
    return root / sha[:2] / sha[2:4] / (sha + (".sigillato" if sealed else ""))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def put_file(root: Path, content: bytes, *, sealed: bool, ring: Keyring | None = None) -> str:
    """Keep `content` under its SHA-256 (sealed: encrypted); its SHA-256. Already there: nothing is rewritten."""
    sha = sha256_of(content)
    path = _path(root, sha, sealed)
    if path.exists():
        return sha
    _write_atomically(path, _sealed_bytes(content, sha, ring or keyring()) if sealed else content)
    return sha


def _sealed_bytes(content: bytes, sha: str, ring: Keyring) -> bytes:
    """The sealed file: magic, key id, nonce, AES-GCM of the content bound to its SHA-256."""
    nonce, key_id = os.urandom(12), ring.current.encode()
    return _SEALED_MAGIC + bytes([len(key_id)]) + key_id + nonce + \
        ring.aead(ring.current).encrypt(nonce, content, sha.encode())


def _sealed_key(path: Path) -> str | None:
    head = path.read_bytes()[:len(_SEALED_MAGIC) + 256]
    n = len(_SEALED_MAGIC)
    return head[n + 1:n + 1 + head[n]].decode() if head.startswith(_SEALED_MAGIC) else None


def reseal_files(bind: Engine | Connection, ring: Keyring | None = None) -> int:
    """Re-encrypt with the current health key every sealed document file kept under another one (`legami keys
    rotate`); each file replaced atomically, so an interrupted rotation resumes. The number re-encrypted."""
    ring = ring or keyring()
    root, done = documents_root(bind), 0
    with reading(bind) as conn:
        if not present(conn):
            return 0
        shas = conn.execute(sa.select(t.c.sha256).where(t.c.data_class == "sanitario").distinct()).scalars().all()
    for sha in shas:
        path = _path(root, sha, True)
        if not path.exists() or _sealed_key(path) in (None, ring.current):
            continue
        _write_atomically(path, _sealed_bytes(get_file(root, sha, sealed=True, ring=ring), sha, ring))
        done += 1
    return done


def get_file(root: Path, sha: str, *, sealed: bool, ring: Keyring | None = None) -> bytes:
    """The bytes kept under `sha` (opened if sealed); DocumentFileError if missing or altered."""
    path = _path(root, sha, sealed)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentFileError(f"il file del documento non si trova nell'archivio ({sha[:12]}…)") from None
    if sealed:
        from cryptography.exceptions import InvalidTag

        if not data.startswith(_SEALED_MAGIC):
            raise DocumentFileError("il file sigillato del documento è illeggibile")
        n = len(_SEALED_MAGIC)
        size = data[n]
        key_id, nonce, ciphertext = data[n + 1:n + 1 + size].decode(), data[n + 1 + size:n + 13 + size], \
            data[n + 13 + size:]
        try:
            data = (ring or keyring()).aead(key_id).decrypt(nonce, ciphertext, sha.encode())
        except InvalidTag:
            raise DocumentFileError("il file sigillato del documento è stato alterato") from None
    if sha256_of(data) != sha:
        raise DocumentFileError("il file del documento non corrisponde alla sua impronta SHA-256: alterato")
    return data


# ----------------------------------------------------------------------------- rows


def insert(conn: Connection, row: dict[str, Any]) -> int:
    """Add a document's row (its file already written); its id."""
    return int(conn.execute(t.insert().returning(t.c.id), row).scalar_one())


def of_case(conn: Connection, case_id: int, classes: frozenset[str]) -> list[dict[str, Any]]:
    """The documents of a case of these data classes («sociale», «sanitario»), oldest first."""
    if not classes:
        return []
    q = sa.select(t).where(t.c.case_id == case_id, t.c.data_class.in_(sorted(classes))).order_by(t.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def one(conn: Connection, doc_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(t).where(t.c.id == doc_id)).mappings().first()
    return dict(row) if row is not None else None


def types_of_case(conn: Connection, case_id: int) -> frozenset[str]:
    """The document types a case has (whatever their class: a requirement asks whether it exists); a signed
    document found altered after its signature does not count."""
    q = sa.select(t.c.doc_type).where(t.c.case_id == case_id, sa.or_(t.c.firma_integra.is_(None),
                                                                      t.c.firma_integra.is_(True)))
    return frozenset(conn.execute(q.distinct()).scalars())


def present(conn: Connection) -> bool:
    """Whether the database has the documents table (a database left before 0014 does not)."""
    return sa.inspect(conn).has_table(t.name)
