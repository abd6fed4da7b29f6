"""The pure rules of documents (domain/documents.py): the type read from the bytes, the file name offered, the
protocol checked, and the documents a transition requires."""
from __future__ import annotations

import base64
from datetime import date, datetime, timezone

import pytest

from domain.casetype import problems
from domain.documents import allowed_kinds, check_meta, clean_filename, detect_kind, missing_documents, \
    required_document_problems, size_text
from domain.errors import InvalidData
from domain.registry import get_case_type

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc)
P7M_HEAD = bytes.fromhex("3080" "06092a864886f70d010702" "a080") + b"\x00" * 16


@pytest.mark.parametrize(("content", "kind"), [
    (b"%PDF-1.7\n...", "pdf"), (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16, "jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "png"), (P7M_HEAD, "p7m"), (base64.b64encode(P7M_HEAD), "p7m"),
    (b"<!DOCTYPE html><html></html>", None), (b"<html>%PDF-1.4</html>", None), (b"just text", None)])
def test_the_kind_of_a_file_is_read_from_its_bytes(content, kind):
    assert detect_kind(content) == kind


def test_the_name_offered_keeps_no_folder_and_ends_with_what_the_file_is():
    assert clean_filename("../../etc/Patto firmato.PDF", "pdf") == "Patto firmato.pdf"
    assert clean_filename("scansione.pdf", "jpeg") == "scansione.jpg"
    assert clean_filename("patto.pdf.p7m", "p7m") == "patto.pdf.p7m"
    assert clean_filename("\x00\x1f", "png") == "documento.png"


def test_a_protocol_needs_a_sober_number_and_a_past_date_and_the_date_needs_the_number():
    meta = check_meta({"doc_type": "isee", "protocollo_numero": "2026/0012345", "protocollo_data": "18/11/2026"},
                      now=NOW)
    assert (meta.protocollo_numero, meta.protocollo_data) == ("2026/0012345", date(2026, 11, 18))
    with pytest.raises(InvalidData) as refused:
        check_meta({"doc_type": "ricetta", "data_class": "segreto", "protocollo_data": "21/11/2026"}, now=NOW)
    assert {e.field for e in refused.value.errors} == {"doc_type", "data_class", "protocollo_data",
                                                       "protocollo_numero"}


def test_the_patto_s_activation_requires_the_signed_patto_and_nothing_else_does():
    assert missing_documents("patto", "attiva", set()) == \
        "manca il documento richiesto «Patto firmato»: caricarlo tra i documenti del caso"
    assert missing_documents("patto", "attiva", {"patto_firmato"}) is None
    assert missing_documents("patto", "avvia_redazione", set()) is None
    assert problems(get_case_type("patto")) == []


def test_a_declared_requirement_naming_an_unknown_step_or_type_is_refused():
    assert required_document_problems({"decolla": ("patto_firmato",), "attiva": ("papiro",)}, {"attiva"}) == [
        "documento richiesto da una transizione inesistente: decolla",
        "tipo di documento sconosciuto richiesto da attiva: papiro"]


def test_the_accepted_kinds_come_from_the_setting_and_an_unknown_one_is_refused():
    assert allowed_kinds("pdf, PNG") == ("pdf", "png")
    with pytest.raises(ValueError, match="tipi di file sconosciuti: exe"):
        allowed_kinds("pdf,exe")
    assert (size_text(2048), size_text(10 * 1024 * 1024)) == ("2 KB", "10 MB")
