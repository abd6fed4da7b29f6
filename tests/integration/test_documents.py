"""A case's documents through the service layer (DOMAIN.md §14), on both databases: each accepted kind of file
stored content-addressed and read back, the type read from the bytes, the size capped, the protocol checked,
a health document sealed on disk, hidden from CSC and logged when read, out of scope refused, and the patto's
activation refused without the signed patto and accepted with it."""
from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from datetime import date

import pytest

from domain.access import AccessDenied
from domain.errors import GuardRefused, InvalidData
from services.access import ScopedCaseService, health_reads, principal_for
from services.documents import add_document, list_documents, read_document
from store.documents import documents_root
from tests.integration.conftest import NOW
from tests.integration.patto_steps import ASSEGNA, VALUTAZIONE, open_patto, patto_firmato

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + \
        chunk(b"IEND", b"")


# a minimal DER CMS SignedData envelope: SEQUENCE { OID signedData, [0] { ... } }
P7M = bytes.fromhex("3080" "06092a864886f70d010702" "a080") + b"\x30\x03\x02\x01\x01" + b"\x00\x00\x00\x00" * 2


@pytest.fixture
def drafting(service):
    """A patto of as.rossi (Crema) being drafted: the signed patto is what its activation waits for."""
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    case_id = open_patto(service, worker)
    service.advance(case_id=case_id, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 1, 14))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    return case_id


def who(engine, username: str):
    return principal_for(engine, username)


@pytest.mark.parametrize(("content", "name", "media"), [
    (PDF, "patto.pdf", "application/pdf"), (JPEG, "scansione.jpeg", "image/jpeg"), (png(), "foto.png", "image/png"),
    (P7M, "patto.pdf.p7m", "application/pkcs7-mime")], ids=["pdf", "jpeg", "png", "p7m"])
def test_each_accepted_kind_of_file_is_stored_under_its_sha256_and_read_back_whole(
        engine, drafting, content, name, media):
    rossi = who(engine, "as.rossi")
    doc_id = add_document(engine, rossi, drafting, content=content, filename=name, doc_type="patto_firmato",
                          protocollo_numero="2026/0012345", protocollo_data="03/02/2026", now=NOW)
    meta, back = read_document(engine, rossi, doc_id, now=NOW)
    sha = hashlib.sha256(content).hexdigest()
    assert back == content and meta["sha256"] == sha and meta["tipo_file"] == media
    assert meta["protocollo_testo"] == "n. 2026/0012345 del 03/02/2026" and meta["caricato_da"] == "as.rossi"
    assert (documents_root(engine) / sha[:2] / sha[2:4] / sha).read_bytes() == content
    assert [d["id"] for d in list_documents(engine, rossi, drafting, now=NOW)] == [doc_id]


def test_an_html_page_named_pdf_is_refused_and_nothing_is_written(engine, drafting):
    with pytest.raises(InvalidData) as refused:
        add_document(engine, who(engine, "as.rossi"), drafting, content=b"<!DOCTYPE html>", filename="patto.pdf",
                     doc_type="patto_firmato", now=NOW)
    assert refused.value.errors[0].field == "file" and "tipo di file non ammesso" in refused.value.errors[0].message
    assert list_documents(engine, who(engine, "as.rossi"), drafting, now=NOW) == []
    sha = hashlib.sha256(b"<!DOCTYPE html>").hexdigest()
    assert not list(documents_root(engine).rglob(f"{sha}*"))


def test_a_file_over_the_cap_is_refused_with_an_italian_message(engine, drafting, setting):
    setting("LEGAMI_DOCUMENTS_MAX_BYTES", "2048")
    with pytest.raises(InvalidData) as refused:
        add_document(engine, who(engine, "as.rossi"), drafting, content=PDF + b"0" * 4096, filename="grande.pdf",
                     doc_type="isee", now=NOW)
    assert str(refused.value.errors[0]) == "«File»: il file è troppo grande (4 KB): al massimo 2 KB"


def test_a_bad_protocol_number_or_a_future_protocol_date_names_the_field(engine, drafting):
    with pytest.raises(InvalidData) as refused:
        add_document(engine, who(engine, "as.rossi"), drafting, content=PDF, filename="a.pdf", doc_type="isee",
                     protocollo_numero="<b>1</b>", protocollo_data="01/01/2027", now=NOW)
    assert {e.field for e in refused.value.errors} == {"protocollo_numero", "protocollo_data"}


def test_a_health_document_is_sealed_on_disk_hidden_from_csc_and_its_reads_are_logged(engine, drafting):
    rossi = who(engine, "as.rossi")
    doc_id = add_document(engine, rossi, drafting, content=PDF, filename="certificato.pdf",
                          doc_type="certificato", data_class="sanitario", now=NOW)
    sha = hashlib.sha256(PDF).hexdigest()
    sealed = documents_root(engine) / sha[:2] / sha[2:4] / f"{sha}.sigillato"
    assert sealed.exists() and PDF not in sealed.read_bytes()
    csc = who(engine, "csc.bianchi")
    assert list_documents(engine, csc, drafting, now=NOW) == []
    with pytest.raises(AccessDenied):
        read_document(engine, csc, doc_id, now=NOW)
    assert read_document(engine, rossi, doc_id, now=NOW)[1] == PDF
    logged = [r for r in health_reads(engine, username="as.rossi") if r["contesto"] == "documento scaricato"]
    assert [r["campi"] for r in logged] == [[f"documento:{doc_id}"]]
    with pytest.raises(AccessDenied):  # CSC does not add health documents either
        add_document(engine, csc, drafting, content=PDF, filename="c.pdf", doc_type="certificato",
                     data_class="sanitario", now=NOW)


def test_a_worker_of_another_sub_ambito_neither_adds_nor_reads(engine, drafting):
    rossi, verdi = who(engine, "as.rossi"), who(engine, "as.verdi")
    doc_id = add_document(engine, rossi, drafting, content=PDF, filename="a.pdf", doc_type="isee", now=NOW)
    with pytest.raises(AccessDenied):
        add_document(engine, verdi, drafting, content=PDF, filename="a.pdf", doc_type="isee", now=NOW)
    with pytest.raises(AccessDenied):
        read_document(engine, verdi, doc_id, now=NOW)
    with pytest.raises(AccessDenied):
        list_documents(engine, verdi, drafting, now=NOW)


def test_activation_is_refused_without_the_signed_patto_and_accepted_with_it(
        engine, service, drafting, documents_required):
    scoped, rossi = ScopedCaseService(service), who(engine, "as.rossi")
    with pytest.raises(GuardRefused) as refused:
        scoped.advance(rossi, case_id=drafting, transition="attiva", data=patto_firmato(),
                       effective_at=date(2026, 2, 2))
    assert "manca il documento richiesto «Patto firmato»" in str(refused.value)
    add_document(engine, rossi, drafting, content=PDF, filename="patto firmato.pdf", doc_type="patto_firmato",
                 now=NOW)
    scoped.advance(rossi, case_id=drafting, transition="attiva", data=patto_firmato(), effective_at=date(2026, 2, 2))
    assert scoped.read(rossi, drafting)["stato"] == "ACTIVE"


def test_rotating_the_health_keys_re_encrypts_the_sealed_document_files(engine, drafting, setting):
    from store.documents import reseal_files
    from store.sealed import keyring, new_key_entry

    rossi, content = who(engine, "as.rossi"), PDF + f"% rotazione {uuid.uuid4()}\n".encode()  # a file of its own
    setting("LEGAMI_HEALTH_KEYS", old := new_key_entry("vecchia"))
    doc_id = add_document(engine, rossi, drafting, content=content, filename="c.pdf",
                          doc_type="certificato", data_class="sanitario", now=NOW)
    setting("LEGAMI_HEALTH_KEYS", f"{(new := new_key_entry('nuova'))},{old}")
    assert reseal_files(engine, keyring()) == 1 and reseal_files(engine, keyring()) == 0
    setting("LEGAMI_HEALTH_KEYS", new)  # the old key gone: the file still opens
    assert read_document(engine, rossi, doc_id, now=NOW)[1] == content


def test_a_generated_act_is_stored_with_its_declared_name_and_without_the_upload_cap(engine, drafting, setting):
    setting("LEGAMI_DOCUMENTS_MAX_BYTES", "2048")
    act = PDF + b"%" + b"a" * 4096
    doc_id = add_document(engine, who(engine, "as.rossi"), drafting, content=act, filename="patto.pdf",
                          doc_type="atto", origin="generato", act_name="patto_da_firmare", now=NOW)
    meta, back = read_document(engine, who(engine, "as.rossi"), doc_id, now=NOW)
    assert back == act and (meta["origine"], meta["atto"]) == ("generato", "patto_da_firmare")
    with pytest.raises(InvalidData):
        add_document(engine, who(engine, "as.rossi"), drafting, content=act, filename="x.pdf", doc_type="atto",
                     origin="generato", act_name="x" * 81, now=NOW)
