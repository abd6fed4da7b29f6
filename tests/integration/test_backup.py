"""Backups that restore, on SQLite and PostgreSQL: `legami backup` → wipe → `legami restore` gives back every
table row for row; a damaged archive or a non-empty target is refused with an Italian message, nothing written."""
from __future__ import annotations

import io
import json
import tarfile
import threading
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from services.access import log_health_read, principal_for
from services.backup import Locations, create_backup, current_revision, restore_backup
from services.cases import CaseService
from services.setup import ensure_user
from store.auth_tables import health_access_log_t
from store.db import cached_engine, make_engine
from store.tables import case_t, deadline_t, outbox_t, transition_t
from tests.district_world import CREMA, EXTRA_USERS, build_world

from .conftest import NOW, _admin
from .patto_steps import segnalazione

runner = CliRunner()


@pytest.fixture
def cli_url(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    monkeypatch.setenv("LEGAMI_DOCUMENTS_DIR", str(tmp_path / "documenti"))  # its own, not the session's
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield db_url
    get_settings.cache_clear()
    cached_engine.cache_clear()


@pytest.fixture
def world(engine, service, cli_url):
    with engine.begin() as conn:
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    ids = build_world(service)
    with engine.begin() as conn:
        conn.execute(outbox_t.insert(), [
            {"idempotency_key": f"digest:{who}:2026-11-20", "event": "digest", "case_id": ids["patto_crema"],
             "recipient": f"{who}@example.org", "template": "digest", "payload": {"voci": [{"caso": 1}], "n": i},
             "created_at": NOW, "status": status, "attempts": i, "next_attempt_at": NOW,
             "sent_at": NOW if status == "sent" else None, "last_error": "550" if status == "failed" else None}
            for i, (who, status) in enumerate([("as.rossi", "pending"), ("as.bruni", "sent"),
                                               ("udp.neri", "failed")])])
    log_health_read(engine, principal_for(engine, "as.rossi"), ids["sad_ente01"], ["adl", "iadl"], at=NOW)
    engine.dispose()
    return ids


def invoke(*args: str):
    return runner.invoke(app, list(args))


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (and the Alembic revision), in primary-key order."""
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    tables = [*SQLModel.metadata.sorted_tables, sa.table("alembic_version", sa.column("version_num"))]
    try:
        with engine.connect() as conn:
            out = {}
            for t in tables:
                keys = list(t.primary_key.columns) if isinstance(t, sa.Table) else list(t.c)
                out[t.name] = [tuple(r) for r in conn.execute(sa.select(t).order_by(*keys))]
            return out
    finally:
        engine.dispose()


def wipe(url: str) -> None:
    """Delete the SQLite file, or drop the PostgreSQL database (restore creates it again)."""
    backend = sa.engine.make_url(url)
    if backend.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(backend.database + suffix).unlink(missing_ok=True)
        return
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{backend.database}" WITH (FORCE)'))
    admin.dispose()


def count(url: str, table) -> int:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    engine.dispose()
    return n


def test_backup_wipe_restore_gives_back_every_case_audit_row_health_read_deadline_and_message(world, cli_url,
                                                                                               tmp_path, monkeypatch):
    monkeypatch.setenv("LEGAMI_AUDIT_DIR", str(tmp_path / "registro"))
    get_settings.cache_clear()
    before = dump(cli_url)
    assert len(before["case_file"]) == len(world) and len(before["case_transition"]) > 30
    assert before["health_access_log"] and before["deadline"] and len(before["outbox"]) >= 3

    made = invoke("backup", "--out", str(tmp_path / "copia.tar.gz"), "--json")
    assert made.exit_code == 0, made.output
    manifest = json.loads(made.output)
    assert manifest["revisione"] == before["alembic_version"][0][0]
    wipe(cli_url)

    restored = invoke("restore", str(tmp_path / "copia.tar.gz"))
    assert restored.exit_code == 0, restored.output
    assert "Ripristinata la copia" in restored.output
    assert dump(cli_url) == before
    assert current_revision(cli_url) == manifest["revisione"]
    verified = invoke("audit", "verify")  # every audit chain and the case rows agree after the restore
    assert verified.exit_code == 0 and "Registro integro" in verified.output, verified.output

    # the restored database works: a new case gets a fresh id (PostgreSQL's sequences came back too)
    engine = make_engine(cli_url)
    new = CaseService(engine, clock=lambda: NOW).open_case(
        case_type="patto", actor=CaseService(engine).actor("as.rossi"), comune_istat=CREMA,
        effective_at=date(2026, 11, 2), data=segnalazione(surname="Nuova", name="Lia"))
    engine.dispose()
    assert new > max(world.values())


def test_restore_refuses_a_non_empty_database_unless_told_to_overwrite(world, cli_url, tmp_path):
    archive = tmp_path / "copia.tar.gz"
    assert invoke("backup", "--out", str(archive)).exit_code == 0
    before = dump(cli_url)
    engine = make_engine(cli_url)
    with engine.begin() as conn:  # written after the backup
        conn.execute(outbox_t.update().where(outbox_t.c.status == "pending").values(status="sent", attempts=9))
    engine.dispose()
    after_backup = dump(cli_url)

    refused = invoke("restore", str(archive))
    assert refused.exit_code == 1
    assert "il database di destinazione non è vuoto" in refused.output and "--sovrascrivi" in refused.output
    assert dump(cli_url) == after_backup

    replaced = invoke("restore", str(archive), "--sovrascrivi")
    assert replaced.exit_code == 0, replaced.output
    assert dump(cli_url) == before


def flip_a_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupted_archive_is_refused_in_italian_and_nothing_is_written(cli_url, tmp_path):
    archive = tmp_path / "copia.tar.gz"
    assert invoke("backup", "--out", str(archive)).exit_code == 0
    assert "Archivio integro" in invoke("restore", str(archive), "--solo-verifica").output
    before = dump(cli_url)
    flip_a_byte(archive, archive.stat().st_size // 2)

    checked = invoke("restore", str(archive), "--solo-verifica")
    refused = invoke("restore", str(archive), "--sovrascrivi")
    for result in (checked, refused):
        assert result.exit_code == 1
        assert "danneggiat" in result.output and "rifiutato" in result.output, result.output
    assert dump(cli_url) == before


def test_an_archive_whose_gzip_trailer_is_damaged_is_refused_too(cli_url, tmp_path):
    """A damaged byte past the last part (the tar padding, the gzip CRC) harms no part, but the archive is not the
    one written: the check reads the compressed stream to its end, so its CRC is verified (a byte flipped in the
    middle of a large archive can land in the padding: the full suite met it)."""
    archive = tmp_path / "copia.tar.gz"
    assert invoke("backup", "--out", str(archive)).exit_code == 0
    flip_a_byte(archive, archive.stat().st_size - 6)  # inside the gzip trailer's CRC-32

    checked = invoke("restore", str(archive), "--solo-verifica")
    assert checked.exit_code == 1
    assert "danneggiat" in checked.output and "rifiutato" in checked.output, checked.output


def test_a_part_altered_inside_a_well_formed_archive_fails_its_sha256(cli_url, tmp_path):
    archive, forged = tmp_path / "copia.tar.gz", tmp_path / "alterata.tar.gz"
    assert invoke("backup", "--out", str(archive)).exit_code == 0
    with tarfile.open(archive, "r:gz") as src, tarfile.open(forged, "w:gz") as dst:
        for member in src.getmembers():
            data = bytearray(src.extractfile(member).read())
            if member.name.startswith("database/"):
                data[len(data) // 2] ^= 0x01
            dst.addfile(member, io.BytesIO(bytes(data)))
    before = dump(cli_url)

    refused = invoke("restore", str(forged), "--sovrascrivi")
    assert refused.exit_code == 1
    assert "non corrisponde alla sua impronta SHA-256" in refused.output and "database/" in refused.output
    assert dump(cli_url) == before


def test_a_folder_named_by_a_setting_travels_in_the_archive_and_comes_back_byte_for_byte(cli_url, tmp_path):
    """How the documents folder (LEGAMI_DOCUMENTS_DIR) and key files will ride along when they exist."""
    docs = tmp_path / "documenti"
    (docs / "caso-1").mkdir(parents=True)
    (docs / "caso-1" / "patto.pdf").write_bytes(b"%PDF-1.7 firmato\x00\xff")
    (docs / "indice.txt").write_text("patto firmato", encoding="utf-8")
    where = Locations(folders={"documents_dir": docs})
    manifest = create_backup(cli_url, tmp_path / "copia.tar.gz", locations=where)
    assert {p["path"] for p in manifest["parts"]} >= {"folders/documents_dir/caso-1/patto.pdf",
                                                      "folders/documents_dir/indice.txt"}

    with pytest.raises(Exception, match="non è vuot"):
        restore_backup(tmp_path / "copia.tar.gz", cli_url, locations=where)
    (docs / "indice.txt").write_text("cambiato", encoding="utf-8")
    (docs / "estraneo.txt").write_text("dopo la copia", encoding="utf-8")
    restore_backup(tmp_path / "copia.tar.gz", cli_url, locations=where, overwrite=True)
    assert sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()) == [
        "caso-1/patto.pdf", "indice.txt"]
    assert (docs / "caso-1" / "patto.pdf").read_bytes() == b"%PDF-1.7 firmato\x00\xff"
    assert (docs / "indice.txt").read_text(encoding="utf-8") == "patto firmato"


def test_an_sqlite_backup_taken_while_the_app_writes_is_a_consistent_snapshot(tmp_path, sqlite_template):
    import shutil

    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine, stop, written = make_engine(url), threading.Event(), []

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            with engine.begin() as conn:  # two rows per transaction: a snapshot has both or neither
                conn.execute(outbox_t.insert(), [
                    {"idempotency_key": f"k{n}{half}", "event": "e", "recipient": "a@example.org", "template": "t",
                     "payload": {}, "created_at": datetime.now(timezone.utc)} for half in "ab"])
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        create_backup(url, tmp_path / "copia.tar.gz")
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    restore_backup(tmp_path / "copia.tar.gz", f"sqlite:///{tmp_path / 'restored.db'}")
    rows = count(f"sqlite:///{tmp_path / 'restored.db'}", outbox_t)
    assert rows % 2 == 0 and 40 <= rows <= 2 * len(written)
    assert count(f"sqlite:///{tmp_path / 'restored.db'}", case_t) == 0
    for table in (transition_t, deadline_t, health_access_log_t):
        assert count(f"sqlite:///{tmp_path / 'restored.db'}", table) == 0
