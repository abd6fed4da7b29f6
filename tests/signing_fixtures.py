"""Test certificates and signed files, made here and never fetched: a test CA, a signer with an Italian-style
subject (CN, givenName, surname, serialNumber TINIT-<codice fiscale>), a PAdES-signed PDF (pyHanko) and an
attached CAdES .p7m (cryptography's PKCS7 builder). Shared by the signature tests and the upload tests.

Everything here is synthetic: the codice fiscale comes from the demo generator's rules, the names are invented.
Keys are made once per process (RSA generation is the slow part) and reused; `signed_patto_pdf()` and
`signed_patto_p7m()` give ready signed files, `tamper(...)` an altered copy.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from domain.validation import make_codice_fiscale

SIGNER_GIVEN_NAME = "Mario"
SIGNER_SURNAME = "Rossi"
SIGNER_NAME = f"{SIGNER_GIVEN_NAME} {SIGNER_SURNAME}"
SIGNER_CF = make_codice_fiscale(SIGNER_SURNAME, SIGNER_GIVEN_NAME, date(1980, 1, 1), "M", "D142")  # born in Crema
PATTO_TEXT = "Patto per l'inclusione sociale: il beneficiario si impegna a partecipare ai colloqui."


@dataclass(frozen=True)
class SigningPki:
    ca_cert: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    signer_cert: x509.Certificate
    signer_key: rsa.RSAPrivateKey

    @property
    def ca_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_pki(*, signer_valid_from: datetime | None = None, signer_valid_days: int = 3 * 365,
             ca_name: str = "Legami Test CA") -> SigningPki:
    """A test CA and a signer certificate issued by it (key usage non-repudiation, as Italian qualified
    signature certificates have), valid from yesterday by default."""
    now = datetime.now(timezone.utc)
    ca_key, signer_key = _cached_keys(ca_name)
    ca_subject = _name((NameOID.COUNTRY_NAME, "IT"), (NameOID.ORGANIZATION_NAME, "Legami Test"),
                       (NameOID.COMMON_NAME, ca_name))
    ca_cert = (x509.CertificateBuilder().subject_name(ca_subject).issuer_name(ca_subject)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=True, crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    start = signer_valid_from or now - timedelta(days=1)
    signer_subject = _name((NameOID.COUNTRY_NAME, "IT"), (NameOID.GIVEN_NAME, SIGNER_GIVEN_NAME),
                           (NameOID.SURNAME, SIGNER_SURNAME), (NameOID.SERIAL_NUMBER, f"TINIT-{SIGNER_CF}"),
                           (NameOID.COMMON_NAME, f"{SIGNER_SURNAME.upper()} {SIGNER_GIVEN_NAME.upper()}"))
    signer_cert = (x509.CertificateBuilder().subject_name(signer_subject).issuer_name(ca_subject)
                   .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=signer_valid_days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
    return SigningPki(ca_cert, ca_key, signer_cert, signer_key)


@lru_cache(maxsize=None)
def _cached_keys(ca_name: str) -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return _key(), _key()


def write_trust_dir(folder: Path, *certificates: x509.Certificate) -> Path:
    """A trust store folder holding each certificate as a PEM file."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, cert in enumerate(certificates):
        (folder / f"radice-{n}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder


def plain_pdf(text: str = PATTO_TEXT) -> bytes:
    """A one-page PDF whose content stream is uncompressed, so a test can change a word in place."""
    content = f"BT /F1 11 Tf 56 780 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _run(coroutine_factory):
    """Run a pyHanko coroutine whether or not the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine_factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result()


def pades_sign(pdf: bytes, pki: SigningPki, *, field_name: str = "FirmaBeneficiario") -> bytes:
    """The PDF signed (PAdES baseline, no timestamp) by the test signer, its CA certificate embedded."""
    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    with warnings.catch_warnings():  # pyHanko imports cryptography's DSA types, which warn
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

    def der(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    key = asn1_keys.PrivateKeyInfo.load(pki.signer_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=der(pki.signer_cert), signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([der(pki.ca_cert)]))
    meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES,
                                        reason="Sottoscrizione del patto", location="Crema")

    async def sign():
        out = BytesIO()
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        await signers.async_sign_pdf(writer, meta, signer=signer, output=out)
        return out.getvalue()

    return _run(sign)


def cades_sign(content: bytes, pki: SigningPki) -> bytes:
    """An attached CAdES signature (.p7m, DER) of `content` by the test signer, with a signing-time attribute and
    the CA certificate embedded."""
    return (pkcs7.PKCS7SignatureBuilder().set_data(content)
            .add_signer(pki.signer_cert, pki.signer_key, hashes.SHA256())
            .add_certificate(pki.ca_cert)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


def as_base64_p7m(der: bytes) -> bytes:
    """The same .p7m as some Italian signing tools save it: base64 text, wrapped at 64 columns."""
    text = base64.b64encode(der)
    return b"\r\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + b"\r\n"


def tamper(content: bytes, old: bytes, new: bytes) -> bytes:
    """`content` with its one occurrence of `old` replaced by `new` of the same length (layout untouched)."""
    assert len(old) == len(new) and content.count(old) == 1, "a tamper must change one place, same length"
    return content.replace(old, new)


@lru_cache(maxsize=None)
def default_pki() -> SigningPki:
    """One test CA and signer for the whole test process."""
    return make_pki()


@lru_cache(maxsize=None)
def signed_patto_pdf() -> bytes:
    """A PAdES-signed patto (one per process): what an upload test sends as «patto firmato»."""
    return pades_sign(plain_pdf(), default_pki())


@lru_cache(maxsize=None)
def signed_patto_p7m() -> bytes:
    """The same patto as an attached CAdES .p7m (one per process)."""
    return cades_sign(plain_pdf(), default_pki())
