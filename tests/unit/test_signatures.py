"""Digital signatures (issue 13 item 6): a PAdES PDF and a CAdES .p7m made here with a test CA are verified,
altered copies are reported as altered, and trust is "verificata" only against a configured trust store.
No database: the module verifies bytes."""
from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest

from config.settings import get_settings
from domain.signatures import SignatureReport, codice_fiscale_from_serial
from services.signatures import verify_signature
from tests.signing_fixtures import (PATTO_TEXT, SIGNER_CF, SIGNER_NAME, as_base64_p7m, cades_sign, default_pki,
                                    make_pki, pades_sign, plain_pdf, signed_patto_p7m, signed_patto_pdf, tamper,
                                    write_trust_dir)

P7M = "application/pkcs7-mime"
PDF = "application/pdf"


@pytest.fixture(scope="module")
def pki():
    return default_pki()


@pytest.fixture(scope="module")
def other_pki():
    return make_pki(ca_name="Altra CA di prova")


@pytest.fixture(scope="module")
def signed_pdf(pki):
    return signed_patto_pdf()


@pytest.fixture(scope="module")
def p7m(pki):
    return signed_patto_p7m()


@pytest.fixture(scope="module")
def trust_dir(tmp_path_factory, pki):
    return write_trust_dir(tmp_path_factory.mktemp("fiducia"), pki.ca_cert)


def test_a_pades_signed_pdf_is_intact_and_names_its_signer_and_codice_fiscale(pki):
    # signed here, not the process-wide cached patto: its signing time is the moment it was first made, which
    # on a loaded CI run was 12 minutes before this test
    before = datetime.now(timezone.utc).replace(microsecond=0)
    signed = pades_sign(plain_pdf(), pki)
    after = datetime.now(timezone.utc)
    report = verify_signature(signed, PDF, trust_dir=None)
    assert report is not None
    assert (report.formato, report.integra, report.fiducia) == ("PAdES", True, "non verificata")
    assert (report.firmatario_nome, report.firmatario_cf) == (SIGNER_NAME, SIGNER_CF)
    assert before - timedelta(seconds=1) <= report.firma_data <= after + timedelta(seconds=1)
    assert "integra" in report.dettaglio and SIGNER_NAME in report.dettaglio
    assert "elenco europeo" in report.dettaglio  # says why trust was not verified
    assert report.inner_content is None


def test_a_pdf_whose_bytes_were_changed_after_signing_is_reported_altered_in_italian(signed_pdf):
    report = verify_signature(tamper(signed_pdf, b"Patto per", b"Pacco per"), PDF, trust_dir=None)
    assert report is not None and report.integra is False
    assert report.fiducia == "non attendibile"
    assert report.dettaglio.startswith("Il documento è stato alterato dopo la firma di Mario Rossi")


def test_a_pdf_rewritten_by_an_update_appended_after_signing_is_reported_modified(signed_pdf):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed_pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT (Patto annullato) Tj ET"))
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_signature(out.getvalue(), PDF, trust_dir=None)
    assert report is not None and report.integra is False
    assert "modificato dopo la firma" in report.dettaglio


def test_an_unsigned_pdf_carries_no_signature():
    assert verify_signature(plain_pdf(), PDF, trust_dir=None) is None


def test_files_of_other_types_are_not_examined():
    assert verify_signature(b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png", trust_dir=None) is None
    assert verify_signature(b"solo testo", "application/octet-stream", trust_dir=None) is None


def test_a_p7m_is_verified_and_gives_back_the_signed_document(p7m):
    report = verify_signature(p7m, P7M, trust_dir=None)
    assert report is not None
    assert (report.formato, report.integra, report.fiducia) == ("CAdES", True, "non verificata")
    assert (report.firmatario_nome, report.firmatario_cf) == (SIGNER_NAME, SIGNER_CF)
    assert report.firma_data is not None
    assert report.inner_content == plain_pdf()
    assert PATTO_TEXT.encode() in report.inner_content


def test_a_p7m_saved_as_base64_or_pem_is_read_like_the_der_one(p7m):
    pem = b"-----BEGIN PKCS7-----\n" + as_base64_p7m(p7m) + b"-----END PKCS7-----\n"
    for variant, media_type in ((as_base64_p7m(p7m), "application/octet-stream"), (pem, P7M)):
        report = verify_signature(variant, media_type, trust_dir=None)
        assert report is not None and report.integra and report.inner_content == plain_pdf()


def test_a_tampered_p7m_is_reported_altered(p7m):
    report = verify_signature(tamper(p7m, b"Patto per", b"Pacco per"), P7M, trust_dir=None)
    assert report is not None and report.integra is False
    assert report.fiducia == "non attendibile" and "alterato" in report.dettaglio


def test_a_file_announced_as_p7m_that_is_not_a_signed_envelope_is_reported_unreadable():
    report = verify_signature(base64.b64encode(b"non una busta"), P7M, trust_dir=None)
    assert report is not None and report.integra is False
    assert "non è leggibile" in report.dettaglio


def test_a_signed_pdf_cut_short_in_transfer_is_reported_unreadable_not_unsigned(signed_pdf):
    report = verify_signature(signed_pdf[:-200], PDF, trust_dir=None)
    assert report is not None and report.integra is False
    assert report.dettaglio.startswith("La firma PAdES non è leggibile")


def test_the_content_decides_a_pdf_sent_with_the_p7m_media_type_is_read_as_a_pdf(signed_pdf):
    report = verify_signature(signed_pdf, P7M, trust_dir=None)
    assert report is not None and (report.formato, report.integra) == ("PAdES", True)


def test_with_the_test_ca_in_the_trust_dir_both_signatures_are_verified(signed_pdf, p7m, trust_dir):
    for content, media_type in ((signed_pdf, PDF), (p7m, P7M)):
        report = verify_signature(content, media_type, trust_dir=trust_dir)
        assert report is not None and report.integra and report.fiducia == "verificata"


def test_a_trust_dir_without_the_signers_ca_makes_the_signature_non_attendibile(p7m, other_pki, tmp_path):
    report = verify_signature(p7m, P7M, trust_dir=write_trust_dir(tmp_path, other_pki.ca_cert))
    assert report is not None and report.integra is True
    assert report.fiducia == "non attendibile" and "archivio di fiducia" in report.dettaglio


def test_the_trust_dir_is_read_from_the_setting(p7m, trust_dir, monkeypatch):
    monkeypatch.setenv("LEGAMI_SIGNATURE_TRUST_DIR", str(trust_dir))
    get_settings.cache_clear()
    try:
        assert verify_signature(p7m, P7M).fiducia == "verificata"
    finally:
        get_settings.cache_clear()


def test_a_trust_dir_that_does_not_exist_is_refused_at_start_naming_the_setting(tmp_path):
    from pydantic import ValidationError

    from config.settings import Settings

    with pytest.raises(ValidationError, match="LEGAMI_SIGNATURE_TRUST_DIR"):
        Settings(signature_trust_dir=tmp_path / "manca")


def test_a_certificate_expired_when_it_signed_is_not_attendibile_although_the_content_is_intact(tmp_path):
    expired = make_pki(signer_valid_from=datetime.now(timezone.utc) - timedelta(days=400), signer_valid_days=30)
    report = verify_signature(cades_sign(b"relazione sociale", expired), P7M, trust_dir=None)
    assert report is not None and report.integra is True
    assert report.fiducia == "non attendibile" and "scaduto alla data della firma" in report.dettaglio


def test_a_pdf_signed_twice_names_both_signers(signed_pdf, other_pki, trust_dir):
    twice = pades_sign(signed_pdf, other_pki, field_name="FirmaAssistenteSociale")
    report = verify_signature(twice, PDF, trust_dir=trust_dir)
    assert report is not None and report.integra is True
    assert report.fiducia == "non attendibile"  # the second signer's CA is not in the store
    assert report.altri_firmatari == (SIGNER_NAME,) and "2 firme" in report.dettaglio


def test_a_p7m_with_parallel_signers_checks_each_one(pki, other_pki, trust_dir):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    both = (pkcs7.PKCS7SignatureBuilder().set_data(b"verbale dell'equipe")
            .add_signer(pki.signer_cert, pki.signer_key, hashes.SHA256())
            .add_signer(other_pki.signer_cert, other_pki.signer_key, hashes.SHA256())
            .add_certificate(pki.ca_cert).add_certificate(other_pki.ca_cert)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    report = verify_signature(both, P7M, trust_dir=trust_dir)
    assert report is not None and report.integra is True and report.inner_content == b"verbale dell'equipe"
    assert report.fiducia == "non attendibile" and report.altri_firmatari == (SIGNER_NAME,)


def test_verification_also_runs_inside_an_event_loop(p7m):
    async def from_an_async_route():
        return verify_signature(p7m, P7M, trust_dir=None)

    assert asyncio.run(from_an_async_route()).integra is True


def test_the_report_keeps_a_json_record_without_the_signed_content(p7m):
    record = verify_signature(p7m, P7M, trust_dir=None).as_record()
    assert "inner_content" not in record
    assert json.loads(json.dumps(record))["firmatario_cf"] == SIGNER_CF


@pytest.mark.parametrize("serial, expected", [
    (f"TINIT-{SIGNER_CF}", SIGNER_CF), (f"IT:{SIGNER_CF}", SIGNER_CF), (f"tinit-{SIGNER_CF.lower()}", SIGNER_CF),
    ("TINIT-RSSMRA80A01D142X", None), ("2026-000123", None), (None, None)])
def test_the_codice_fiscale_is_taken_from_the_certificate_serial_number_only_when_valid(serial, expected):
    assert codice_fiscale_from_serial(serial) == expected


def test_the_report_is_immutable():
    report = SignatureReport("CAdES", True, None, None, None, "non verificata", "…")
    with pytest.raises(AttributeError):
        report.integra = False  # type: ignore[misc]
