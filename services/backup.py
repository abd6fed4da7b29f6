"""Backups that restore: one .tar.gz holding the database, the folders and key files Legami keeps beside it, and
a manifest (SHA-256 of every part, Legami's version, the Alembic revision, the date).

- the database: SQLite's online backup API, or `pg_dump -Fc` and back in one transaction (`store/dumps.py`);
- folders and files named by settings (`FOLDER_SETTINGS`, `FILE_SETTINGS`): a feature that keeps data outside the
  database (the documents folder, the health store's key files) adds its setting's name there, and backup and
  restore carry it with no other change.

A restore checks every part against the manifest before it writes anything, refuses a non-empty target unless
told to overwrite, and leaves the database at the archive's revision (never migrated: `legami init` does that).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from domain.italian import ROME
from store.db import alembic_config
from store.dumps import BackupError, backend_of, copy_database, current_revision, database_not_empty, load_database

FORMAT = 1
MANIFEST = "manifest.json"
ARCHIVE_PREFIX = "legami-backup-"
ARCHIVE_NAME = re.compile(r"^legami-backup-(\d{8}-\d{6})\.tar\.gz$")
DB_PART = {"sqlite": "database/legami.sqlite3", "postgresql": "database/legami.pgdump"}
# Settings whose folder (every file under it) or file travels with the database in every backup: the documents
# (LEGAMI_DOCUMENTS_DIR, or its default beside the SQLite file); the health store's key files when they come.
FOLDER_SETTINGS: tuple[str, ...] = ("documents_dir",)
FILE_SETTINGS: tuple[str, ...] = ()
CHUNK = 1 << 20


@dataclass(frozen=True)
class Locations:
    """Where the folders and files that belong with the database live, by the name of their setting."""

    folders: dict[str, Path] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def locations_from_settings(settings: Any) -> Locations:
    def configured(names: tuple[str, ...]) -> dict[str, Path]:
        return {n: Path(v) for n in names if (v := getattr(settings, n, None))}

    folders = configured(FOLDER_SETTINGS)
    if "documents_dir" not in folders and getattr(settings, "database_url", None):
        from store.documents import default_root  # the documents' default folder, beside the SQLite file

        folders["documents_dir"] = default_root(settings.database_url)
    return Locations(folders=folders, files=configured(FILE_SETTINGS))


# ------------------------------------------------------------------------------------------------ backup


def default_archive(folder: Path, now: datetime | None = None) -> Path:
    when = (now or datetime.now(timezone.utc)).astimezone(ROME)
    return folder / f"{ARCHIVE_PREFIX}{when:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(database_url: str, archive: Path, *, locations: Locations = Locations(),
                  now: datetime | None = None) -> dict[str, Any]:
    """Write `archive` (mode 0600: it holds personal data) and return its manifest. Nothing is left behind on
    failure (the archive is written beside and renamed at the end)."""
    backend = backend_of(database_url)
    if archive.exists():
        raise BackupError(f"l'archivio {archive} esiste già: scegliere un altro nome")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="legami-backup-") as tmp:
        db_file = Path(tmp) / Path(DB_PART[backend]).name
        revision = copy_database(database_url, db_file)
        parts = [(DB_PART[backend], "database", backend, db_file)]
        parts += list(_location_parts(locations))
        manifest = {
            "format": FORMAT, "legami_version": legami_version(), "alembic_revision": revision,
            "created_at": (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(),
            "backend": backend,
            "parts": [{"path": arc, "kind": kind, "name": name, "sha256": _sha256(src), "size": src.stat().st_size}
                      for arc, kind, name, src in parts],
        }
        partial = archive.with_name(archive.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
                for arc, _kind, _name, src in parts:
                    tar.add(src, arcname=arc, recursive=False, filter=_anonymous)
            partial.replace(archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def prune_backups(folder: Path, *, keep_days: int, now: datetime | None = None) -> list[str]:
    """Delete the archives in `folder` named by `default_archive` older than `keep_days` days (by their name)."""
    cutoff = (now or datetime.now(timezone.utc)).astimezone(ROME).replace(tzinfo=None) - timedelta(days=keep_days)
    removed = []
    for path in sorted(folder.glob(f"{ARCHIVE_PREFIX}*.tar.gz")):
        match = ARCHIVE_NAME.match(path.name)
        if match and datetime.strptime(match.group(1), "%Y%m%d-%H%M%S") < cutoff:
            path.unlink()
            removed.append(path.name)
    return removed


def _location_parts(locations: Locations) -> Iterator[tuple[str, str, str, Path]]:
    for name, folder in sorted(locations.folders.items()):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                yield f"folders/{name}/{path.relative_to(folder).as_posix()}", "folder", name, path
    for name, path in sorted(locations.files.items()):
        if path.is_file():
            yield f"files/{name}", "file", name, path


# ------------------------------------------------------------------------------------------------ restore


def verify_archive(archive: Path, workdir: Path) -> dict[str, Any]:
    """Read the manifest and extract every part into `workdir`, checking each against its SHA-256; refuse an
    archive that is unreadable, incomplete, carries a part the manifest does not list, or was made by a format
    or a revision this Legami does not know."""
    if not archive.is_file():
        raise BackupError(f"archivio non trovato: {archive}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members:
                raise BackupError(f"{archive.name}: manca {MANIFEST}, non è una copia di Legami")
            manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
            _check_manifest(manifest)
            listed = {p["path"]: p for p in manifest["parts"]}
            if unlisted := sorted(set(members) - set(listed) - {MANIFEST}):
                raise BackupError(f"l'archivio contiene parti non elencate nel manifest: {', '.join(unlisted)}")
            for path, part in listed.items():
                member = members.get(path)
                if member is None or not member.isfile():
                    raise BackupError(f"manca la parte «{path}» elencata nel manifest: copia incompleta")
                digest = _extract(tar.extractfile(member), workdir / path)
                if digest != part["sha256"]:
                    raise BackupError(f"la parte «{path}» non corrisponde alla sua impronta SHA-256 nel manifest: "
                                      "copia danneggiata o alterata, ripristino rifiutato")
            while tar.fileobj.read(1 << 20):  # to the stream's end: the gzip CRC-32 and length are checked
                pass                            # (tarfile stops at the tar's end and never reads the trailer)
    except BackupError:
        raise
    except (tarfile.TarError, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"archivio illeggibile o danneggiato ({archive.name}): {exc.__class__.__name__}; "
                          "ripristino rifiutato") from None
    return manifest


def restore_backup(archive: Path, database_url: str, *, locations: Locations = Locations(),
                   overwrite: bool = False, verify_only: bool = False) -> dict[str, Any]:
    """Check `archive`, then (unless `verify_only`) put its database, folders and files back. A non-empty
    database or folder is replaced only with `overwrite`."""
    with tempfile.TemporaryDirectory(prefix="legami-restore-") as tmp:
        work = Path(tmp)
        manifest = verify_archive(archive, work)
        summary = {"archivio": str(archive), "database": manifest["backend"], "revisione": manifest["alembic_revision"],
                   "legami": manifest["legami_version"], "creato_il": manifest["created_at"],
                   "parti": len(manifest["parts"]), "ripristinato": False}
        if verify_only:
            return summary
        backend = backend_of(database_url)
        if backend != manifest["backend"]:
            raise BackupError(f"la copia è di un database {manifest['backend']}, la destinazione è {backend}: "
                              "ripristinare su un database dello stesso tipo")
        targets = _location_targets(manifest, locations)
        refusals = [what for what in [database_not_empty(database_url),
                                      *(_folder_not_empty(p) for p in targets.values())] if what]
        if refusals and not overwrite:
            raise BackupError("; ".join(refusals) + ": usare --sovrascrivi per sostituirne il contenuto con la copia")
        source = work / DB_PART[backend]
        load_database(source, database_url)
        revision = current_revision(database_url)
        if revision != manifest["alembic_revision"]:
            raise BackupError(f"dopo il ripristino il database è alla revisione {revision}, la copia dichiara "
                              f"{manifest['alembic_revision']}")
        for key, target in targets.items():
            _replace_location(manifest, key, work, target)
        summary.update(ripristinato=True, revisione_attuale_di_legami=_head())
        return summary


def _check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"formato della copia non riconosciuto ({MANIFEST}): serve il formato {FORMAT}")
    for key in ("alembic_revision", "backend", "parts", "created_at", "legami_version"):
        if key not in manifest:
            raise BackupError(f"{MANIFEST} incompleto: manca «{key}»")
    if manifest["backend"] not in DB_PART:
        raise BackupError(f"{MANIFEST}: tipo di database sconosciuto «{manifest['backend']}»")
    for part in manifest["parts"]:
        path = part["path"]
        if path.startswith("/") or ".." in Path(path).parts or not str(part.get("sha256", "")):
            raise BackupError(f"{MANIFEST}: parte non valida «{path}»")
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        known = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(manifest["alembic_revision"])
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"la copia è alla revisione {manifest['alembic_revision']}, sconosciuta a questa versione "
                          f"di Legami ({legami_version()}): ripristinarla con la versione che l'ha prodotta")


def _location_targets(manifest: dict[str, Any], locations: Locations) -> dict[tuple[str, str], Path]:
    targets = {}
    for part in manifest["parts"]:
        kind, name = part["kind"], part["name"]
        if kind == "database":
            continue
        where = (locations.folders if kind == "folder" else locations.files).get(name)
        if where is None:
            raise BackupError(f"la copia contiene «{name}» ma la sua impostazione (LEGAMI_{name.upper()}) non è "
                              "configurata: impostarla e ripetere")
        targets[(kind, name)] = where
    return targets


def _folder_not_empty(path: Path) -> str | None:
    if path.is_dir() and any(path.iterdir()):
        return f"la cartella {path} non è vuota"
    if path.is_file():
        return f"il file {path} esiste già"
    return None


def _replace_location(manifest: dict[str, Any], key: tuple[str, str], work: Path, target: Path) -> None:
    kind, name = key
    if kind == "file":
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / "files" / name, target)
        os.chmod(target, 0o600)
        return
    incoming = target.with_name(target.name + ".restoring")
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.copytree(work / "folders" / name, incoming)
    if target.exists():
        shutil.rmtree(target)
    incoming.replace(target)


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def legami_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("legami")
    except PackageNotFoundError:
        return "sconosciuta"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _extract(stream, dest: Path) -> str:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(timezone.utc).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info
