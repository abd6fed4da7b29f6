"""Digital signatures on uploaded papers (DOMAIN.md §14, issue 13 item 6): what a verification found, and the
judgement a worker reads. Pure: the cryptography is done by services/signatures.py, which hands over a
`SignatureFinding`; `judge` turns it into the `SignatureReport` that is recorded and shown.

Three answers on trust, never more than was checked:
- "verificata": integrity holds and the signer's certificate chains to a root of the configured trust store;
- "non verificata": integrity holds and the certificate is sound in itself (in force at the signing time, enabled
  for signing), but no trust store is configured, so whether its issuer is a qualified CA was not checked (that
  needs the EU trusted list, which Legami does not fetch);
- "non attendibile": the document was altered, the signature is broken or unreadable, or the certificate is not
  acceptable (expired, not yet valid, not for signing, revoked, or outside the configured trust store).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from domain.italian import format_date, format_datetime
from domain.validation import validate_codice_fiscale

Formato = Literal["PAdES", "CAdES"]
Fiducia = Literal["verificata", "non verificata", "non attendibile"]
VERIFICATA: Fiducia = "verificata"
NON_VERIFICATA: Fiducia = "non verificata"
NON_ATTENDIBILE: Fiducia = "non attendibile"

# The prefixes an Italian signing certificate puts before the codice fiscale in its subject's serialNumber:
# ETSI EN 319 412-1 ("TINIT-") and the older CNIPA profile ("IT:").
CF_PREFIXES = ("TINIT-", "IT:")

NO_TRUST_STORE = ("L'affidabilità dell'autorità che ha emesso il certificato non è verificata: Legami non dispone "
                  "dell'elenco europeo dei certificatori qualificati (nessun archivio di fiducia configurato).")


@dataclass(frozen=True)
class SignatureReport:
    """The verification of one signed file, as recorded with the document and shown to the user."""
    formato: Formato
    integra: bool
    firmatario_nome: str | None
    firmatario_cf: str | None
    firma_data: datetime | None
    fiducia: Fiducia
    dettaglio: str
    inner_content: bytes | None = field(default=None, repr=False)
    altri_firmatari: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """What a document row keeps (JSON-ready; the signed content of a .p7m is stored as its own file)."""
        return {"formato": self.formato, "integra": self.integra, "firmatario_nome": self.firmatario_nome,
                "firmatario_cf": self.firmatario_cf,
                "firma_data": self.firma_data.isoformat() if self.firma_data else None,
                "fiducia": self.fiducia, "dettaglio": self.dettaglio, "altri_firmatari": list(self.altri_firmatari)}


@dataclass(frozen=True)
class Subject:
    """The signer's certificate subject, as far as it names a person."""
    common_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    serial_number: str | None = None

    @property
    def display_name(self) -> str | None:
        if self.given_name and self.surname:
            return f"{self.given_name} {self.surname}"
        return self.common_name or self.surname or self.given_name

    @property
    def codice_fiscale(self) -> str | None:
        return codice_fiscale_from_serial(self.serial_number)


@dataclass(frozen=True)
class SignatureFinding:
    """What the cryptographic checks of one signature found (services/signatures.py fills it in).

    `readable` False: the signature could not be parsed at all (the other fields say nothing then).
    `intact`: the content's digest matches the signed one; `valid`: the signature value matches the certificate.
    `modified_after`: a PAdES file was changed by an incremental update beyond what a signed PDF may receive.
    `chain`: None when no trust store is configured, else "ok", "revoked", "expired" (the certificate is out of
    its validity today and no timestamp proves the signature older) or "untrusted" (no path to a root of the
    store, or a path that fails validation)."""
    formato: Formato
    readable: bool = True
    intact: bool = False
    valid: bool = False
    modified_after: bool = False
    subject: Subject = field(default_factory=Subject)
    signing_time: datetime | None = None
    cert_not_before: datetime | None = None
    cert_not_after: datetime | None = None
    signing_key_usage: bool = True
    chain: Literal["ok", "revoked", "expired", "untrusted"] | None = None
    inner_content: bytes | None = None
    problem: str | None = None


def codice_fiscale_from_serial(serial_number: str | None) -> str | None:
    """The codice fiscale in a certificate's serialNumber ("TINIT-RSSMRA80A01D142M" or "IT:RSSMRA80A01D142M");
    None when absent or not a valid codice fiscale (e.g. a certifier's own serial)."""
    if not serial_number:
        return None
    text = serial_number.strip()
    for prefix in CF_PREFIXES:
        if text.upper().startswith(prefix):
            try:
                return validate_codice_fiscale(text[len(prefix):])
            except ValueError:
                return None
    return None


def _who(finding: SignatureFinding) -> str:
    name = finding.subject.display_name
    return name if name else "firmatario non indicato nel certificato"


def _certificate_problem(finding: SignatureFinding, now: datetime) -> str | None:
    """Why the certificate cannot stand behind the signature by itself, or None."""
    at = finding.signing_time or now
    label = "alla data della firma" if finding.signing_time else "oggi"
    if finding.cert_not_after is not None and at > finding.cert_not_after:
        return f"il certificato del firmatario era scaduto {label} (scadenza {format_date(finding.cert_not_after)})"
    if finding.cert_not_before is not None and at < finding.cert_not_before:
        return (f"il certificato del firmatario non era ancora valido {label} (valido dal "
                f"{format_date(finding.cert_not_before)})")
    if not finding.signing_key_usage:
        return "il certificato del firmatario non è abilitato alla firma digitale"
    return None


def judge(finding: SignatureFinding, *, now: datetime) -> SignatureReport:
    """The report a worker reads, from what the checks found."""
    subject = finding.subject

    def report(integra: bool, fiducia: Fiducia, dettaglio: str) -> SignatureReport:
        return SignatureReport(formato=finding.formato, integra=integra, firmatario_nome=subject.display_name,
                               firmatario_cf=subject.codice_fiscale, firma_data=finding.signing_time,
                               fiducia=fiducia, dettaglio=dettaglio, inner_content=finding.inner_content)

    if not finding.readable:
        why = f" ({finding.problem})" if finding.problem else ""
        conforming = "un PDF firmato conforme" if finding.formato == "PAdES" else "una busta .p7m conforme"
        return report(False, NON_ATTENDIBILE,
                      f"La firma {finding.formato} non è leggibile{why}: il file è danneggiato o non è "
                      f"{conforming}. Chiedere una nuova copia firmata.")
    if not finding.intact:
        return report(False, NON_ATTENDIBILE,
                      f"Il documento è stato alterato dopo la firma di {_who(finding)}: il contenuto non "
                      "corrisponde a quello firmato e non va considerato sottoscritto.")
    if not finding.valid:
        return report(False, NON_ATTENDIBILE,
                      f"La firma non corrisponde al certificato di {_who(finding)}: la firma è contraffatta o "
                      "danneggiata e il documento non va considerato sottoscritto.")
    if finding.modified_after:
        return report(False, NON_ATTENDIBILE,
                      f"Il PDF è stato modificato dopo la firma di {_who(finding)}: le parti aggiunte in seguito "
                      "non sono coperte dalla firma.")
    signed = f"Firma {finding.formato} integra: il documento non è stato modificato dopo la firma di {_who(finding)}"
    if finding.signing_time is not None:
        signed += f" (apposta il {format_datetime(finding.signing_time)})"
    problem = _certificate_problem(finding, now)
    if problem is not None:
        return report(True, NON_ATTENDIBILE, f"{signed}, ma {problem}.")
    if finding.chain is None:
        return report(True, NON_VERIFICATA, f"{signed}. {NO_TRUST_STORE}")
    if finding.chain == "ok":
        return report(True, VERIFICATA, f"{signed}. Il certificato è emesso da un'autorità dell'archivio di fiducia "
                                        "configurato.")
    if finding.chain == "revoked":
        return report(True, NON_ATTENDIBILE, f"{signed}, ma il certificato del firmatario risulta revocato.")
    if finding.chain == "expired":
        return report(True, NON_ATTENDIBILE,
                      f"{signed}, ma il certificato del firmatario oggi non è in corso di validità e nessuna marca "
                      "temporale prova che la firma sia stata apposta prima della scadenza.")
    return report(True, NON_ATTENDIBILE,
                  f"{signed}, ma il certificato non è emesso da un'autorità dell'archivio di fiducia configurato.")


def combine(reports: list[SignatureReport]) -> SignatureReport:
    """One report for a file signed more than once: the first signature that fails (integrity first, then trust),
    else the first one; the other signers are listed."""
    rank = {VERIFICATA: 0, NON_VERIFICATA: 1, NON_ATTENDIBILE: 2}
    worst = max(reports, key=lambda r: (not r.integra, rank[r.fiducia]))
    chosen = worst if (not worst.integra or worst.fiducia != reports[0].fiducia) else reports[0]
    others = tuple(r.firmatario_nome or "firmatario non indicato" for r in reports if r is not chosen)
    if not others:
        return chosen
    dettaglio = f"{chosen.dettaglio} Il file porta {len(reports)} firme; le altre sono di: {', '.join(others)}."
    return SignatureReport(formato=chosen.formato, integra=all(r.integra for r in reports),
                           firmatario_nome=chosen.firmatario_nome, firmatario_cf=chosen.firmatario_cf,
                           firma_data=chosen.firma_data, fiducia=chosen.fiducia, dettaglio=dettaglio,
                           inner_content=chosen.inner_content, altri_firmatari=others)
