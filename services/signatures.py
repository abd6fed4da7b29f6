"""Verification of a signed upload (issue 13 item 6): a PAdES-signed PDF through pyHanko, a CAdES `.p7m` (DER,
base64 or PEM; attached content) through pyHanko's CMS validation over asn1crypto. No database, no network:
revocation lists and OCSP are not fetched, and trust is checked only against the roots in
`LEGAMI_SIGNATURE_TRUST_DIR` (PEM or DER files); the judgement itself is domain/signatures.py.

    report = verify_signature(content, "application/pdf")   # None when the file carries no signature
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextvars
import logging
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import cms, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from domain.signatures import SignatureFinding, SignatureReport, Subject, combine, judge

T = TypeVar("T")
log = logging.getLogger(__name__)
_DEFAULT: Any = object()

PDF_MEDIA_TYPES = frozenset({"application/pdf", "application/x-pdf"})
P7M_MEDIA_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime", "application/pkcs7-signature",
                             "application/x-pkcs7-signature", "application/pkcs7", "application/p7m"})
CMS_SNIFFED_MEDIA_TYPES = frozenset({"application/octet-stream", "text/plain", ""})  # a .p7m often comes as these
TRUST_FILE_SUFFIXES = (".pem", ".crt", ".cer", ".der")
SIGNING_KEY_USAGES = frozenset({"non_repudiation", "digital_signature"})
EXPIRY_PROBLEMS = frozenset({"EXPIRED", "NOT_YET_VALID", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED"})
REVOCATION_PROBLEMS = frozenset({"REVOKED", "REVOKED_NO_POE", "REVOKED_CA_NO_POE"})

# With no trust store, pyHanko logs a warning with a traceback for every signature whose path it cannot build:
# that outcome is the expected one and is in the report, so those records are dropped while we verify.
_verifying = contextvars.ContextVar("legami_verifying_signature", default=False)


class _QuietPathFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_verifying.get() and str(record.msg).startswith("Failed to build path"))


logging.getLogger("pyhanko.sign.validation.generic_cms").addFilter(_QuietPathFailures())


@contextmanager
def _quiet_import() -> Iterator[None]:
    """pyHanko imports cryptography's DSA types, which warn on import: not a word for a user (nor the CLI)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        yield


def _configured_trust_dir() -> Path | None:
    from config.settings import get_settings

    return get_settings().signature_trust_dir


def verify_signature(content: bytes, media_type: str, *, trust_dir: Path | None = _DEFAULT,
                     now: datetime | None = None) -> SignatureReport | None:
    """The verification of a signed PDF (PAdES) or .p7m (CAdES); None when the file carries no signature.
    `trust_dir` defaults to the setting LEGAMI_SIGNATURE_TRUST_DIR; None means no trust store."""
    now = now or datetime.now(timezone.utc)
    roots = load_trust_roots(_configured_trust_dir() if trust_dir is _DEFAULT else trust_dir)
    media = (media_type or "").split(";")[0].strip().lower()
    announced_p7m = media in P7M_MEDIA_TYPES or media.endswith("p7m")
    if content[:1] != b"\x30" and b"%PDF-" in content[:1024]:  # a DER .p7m may hold a PDF near its start
        return _run(lambda: _verify_pdf(content, roots, now))
    if announced_p7m or media in CMS_SNIFFED_MEDIA_TYPES:
        return _run(lambda: _verify_p7m(content, roots, now, announced=announced_p7m))
    return None


def load_trust_roots(folder: Path | None) -> list[asn1_x509.Certificate] | None:
    """The certificates of every PEM/DER file in `folder` (a PEM file may hold several); None when no folder is
    configured or it holds none (trust then stays "non verificata")."""
    if folder is None:
        return None
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"LEGAMI_SIGNATURE_TRUST_DIR: la cartella {folder} non esiste")
    roots: list[asn1_x509.Certificate] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in TRUST_FILE_SUFFIXES):
        data = path.read_bytes()
        try:
            certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])
        except ValueError as exc:
            raise ValueError(f"LEGAMI_SIGNATURE_TRUST_DIR: {path.name} non è un certificato leggibile") from exc
        roots += [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]
    return roots or None


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a verification coroutine from sync code, also when called inside an event loop (an async route)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _context(roots: list[asn1_x509.Certificate] | None):
    with _quiet_import():
        from pyhanko_certvalidator import ValidationContext

    # No fetching: this machine reaches no CRL/OCSP responder; soft-fail accepts the missing revocation data.
    return ValidationContext(trust_roots=roots or [], allow_fetching=False, revocation_mode="soft-fail")


def _key_usage():
    with _quiet_import():
        from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGES), match_all_key_usages=False)


def _subject(cert: asn1_x509.Certificate) -> Subject:
    native = cert.subject.native

    def text(key: str) -> str | None:
        value = native.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return str(value).strip() if value else None

    return Subject(common_name=text("common_name"), given_name=text("given_name"), surname=text("surname"),
                   serial_number=text("serial_number"))


def _finding_from_status(formato, status, roots, *, signing_time, inner=None, modified_after=False):
    cert = status.signing_cert
    validity = cert["tbs_certificate"]["validity"]
    usages = cert.key_usage_value.native if cert.key_usage_value is not None else None
    chain = None
    if roots:
        problem = getattr(status.trust_problem_indic, "name", None)
        chain = ("ok" if status.trusted else "revoked" if status.revoked or problem in REVOCATION_PROBLEMS
                 else "expired" if problem in EXPIRY_PROBLEMS else "untrusted")
    return SignatureFinding(
        formato=formato, intact=bool(status.intact), valid=bool(status.valid), modified_after=modified_after,
        subject=_subject(cert), signing_time=signing_time, cert_not_before=validity["not_before"].native,
        cert_not_after=validity["not_after"].native,
        signing_key_usage=usages is None or bool(SIGNING_KEY_USAGES & set(usages)),
        chain=chain, inner_content=inner)


async def _verify_pdf(content: bytes, roots, now: datetime) -> SignatureReport | None:
    with _quiet_import():
        from pyhanko.pdf_utils.misc import PdfReadError
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature

    _verifying.set(True)
    try:
        signatures = PdfFileReader(BytesIO(content), strict=False).embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
        if b"/ByteRange" not in content:
            return None  # an unreadable PDF with no trace of a signature: not ours to judge
        return _unreadable("PAdES", exc, now)
    if not signatures:
        return None
    reports = []
    for embedded in signatures:
        try:
            status = await async_validate_pdf_signature(embedded, signer_validation_context=_context(roots),
                                                        key_usage_settings=_key_usage())
        except Exception as exc:  # pyHanko raises many kinds on a broken signature dictionary or CMS blob
            reports.append(_unreadable("PAdES", exc, now))
            continue
        modified = status.docmdp_ok is False or status.coverage is None or status.coverage.value < 2
        reports.append(judge(_finding_from_status("PAdES", status, roots, signing_time=status.signer_reported_dt,
                                                  modified_after=modified), now=now))
    return combine(reports)


def _cms_der(content: bytes) -> bytes | None:
    """The DER of a .p7m saved as DER, as base64 text or as PEM; None when it is none of these."""
    data = content.strip()
    if data.startswith(b"-----BEGIN"):
        data = b"".join(line for line in data.splitlines() if line.strip() and not line.startswith(b"-----"))
    elif data[:1] == b"\x30":
        return data
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _signed_data(content: bytes) -> cms.SignedData | None:
    der = _cms_der(content)
    if der is None or der[:1] != b"\x30":
        return None
    info = cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        return None
    return info["content"]


async def _verify_p7m(content: bytes, roots, now: datetime, *, announced: bool) -> SignatureReport | None:
    with _quiet_import():
        from pyhanko.sign.validation.generic_cms import async_validate_cms_signature, extract_self_reported_ts

    _verifying.set(True)
    try:
        signed = _signed_data(content)
        if signed is None:
            return judge(SignatureFinding("CAdES", readable=False, problem="non è una busta CMS firmata"),
                         now=now) if announced else None
        signer_infos = list(signed["signer_infos"])
        inner = signed["encap_content_info"]["content"].native
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        if not announced:
            return None
        return _unreadable("CAdES", exc, now)
    if inner is None:
        return judge(SignatureFinding("CAdES", readable=False,
                                      problem="firma separata: la busta non contiene il documento firmato"), now=now)
    if not signer_infos:
        return judge(SignatureFinding("CAdES", readable=False, problem="la busta non contiene firme"), now=now)
    reports = []
    for signer_info in signer_infos:  # parallel signatures: each is checked on its own
        one = signed.copy()
        one["signer_infos"] = cms.SignerInfos([signer_info])
        try:
            status = await async_validate_cms_signature(one, validation_context=_context(roots),
                                                        key_usage_settings=_key_usage())
            finding = _finding_from_status("CAdES", status, roots, signing_time=extract_self_reported_ts(signer_info),
                                           inner=inner)
            reports.append(judge(finding, now=now))
        except Exception as exc:  # a signer whose certificate is missing, an unknown algorithm, a broken blob
            reports.append(_unreadable("CAdES", exc, now, inner))
    return combine(reports)


def _unreadable(formato, exc: BaseException, now: datetime, inner: bytes | None = None) -> SignatureReport:
    """The report of a signature the libraries could not read; their (English) reason goes to the log only."""
    log.info("firma %s illeggibile: %s: %s", formato, type(exc).__name__, " ".join(str(exc).split())[:300])
    return judge(SignatureFinding(formato, readable=False, inner_content=inner), now=now)
