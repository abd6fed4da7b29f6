"""A case's documents (DOMAIN.md §14): what a document is, which kinds of file are accepted, and which
documents a transition requires. Pure (the file type is read from the bytes with `puremagic`, no I/O).

A document is uploaded (signed scans, ISEE attestation, certificates, provider reports) or generated (the acts
of the procedure); it has a declared type (`DOC_TYPES`), a data class (social or health: a health document is
read only by who sees the case's health data, and each read is logged), its SHA-256 (the «impronta» of DPR
445/2000 art. 53), the Ente's protocol number and date when it has them (Legami is not the protocol register),
who added it and when. Documents are never changed nor deleted: a new version is a new document.

A case type declares which documents a transition needs (`CaseType.required_documents`: transition → document
types); `missing_documents` says in Italian which are missing.
"""
from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.bounds import YEAR_MAX, YEAR_MIN
from domain.errors import InvalidData
from domain.field_errors import FieldError
from domain.fields import FieldClass
from domain.italian import ROME, format_date, parse_date

DOC_TYPES: dict[str, str] = {
    "patto_firmato": "Patto firmato",
    "isee": "Attestazione ISEE",
    "certificato": "Certificato",
    "relazione_ente": "Relazione dell'ente",
    "atto": "Atto generato",
    "altro": "Altro documento",
}
ORIGINS: dict[str, str] = {"caricato": "Caricato", "generato": "Generato da Legami"}
CLASSES: dict[str, FieldClass] = {"sociale": FieldClass.SOCIAL, "sanitario": FieldClass.HEALTH}
CLASS_LABELS: dict[FieldClass, str] = {c: label for label, c in CLASSES.items()}

KINDS: dict[str, tuple[str, str]] = {  # kind of file -> (media type, extension)
    "pdf": ("application/pdf", ".pdf"),
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "p7m": ("application/pkcs7-mime", ".p7m"),
    "tiff": ("image/tiff", ".tif"),
    "xml": ("application/xml", ".xml"),
}
DEFAULT_KINDS = ("pdf", "jpeg", "png", "p7m")
_MEDIA_KIND = {media: kind for kind, (media, _) in KINDS.items()} | {"text/xml": "xml", "image/jpg": "jpeg"}

FILENAME_MAX = 200
PROTOCOLLO_MAX = 40
_PROTOCOLLO_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z/._ -]*$")
LABELS = {"file": "File", "doc_type": "Tipo di documento", "data_class": "Classe del dato",
          "origin": "Origine", "protocollo_numero": "Numero di protocollo",
          "protocollo_data": "Data di protocollo", "filename": "Nome del file", "act_name": "Atto"}
ACT_NAME_MAX = 80
# CMS SignedData (1.2.840.113549.1.7.2) as DER: the content type a .p7m (CAdES) starts with
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_BASE64_RE = re.compile(rb"^MI[A-Za-z0-9+/]{14,}")  # base64 of a DER SEQUENCE starts «MI»


def _error(field: str, message: str) -> FieldError:
    return FieldError(field, LABELS[field], message)


@dataclass(frozen=True)
class DocumentMeta:
    """What is declared about a document, checked."""

    doc_type: str
    data_class: FieldClass
    origin: str
    filename: str
    protocollo_numero: str | None
    protocollo_data: date | None


def allowed_kinds(setting: str | Collection[str] | None) -> tuple[str, ...]:
    """The kinds of file accepted, from the setting (comma-separated); unknown names are refused loudly."""
    if setting is None:
        return DEFAULT_KINDS
    names = [n.strip().lower() for n in (setting.split(",") if isinstance(setting, str) else setting)]
    unknown = [n for n in names if n and n not in KINDS]
    if unknown:
        raise ValueError(f"tipi di file sconosciuti: {', '.join(unknown)} (ammessi: {', '.join(KINDS)})")
    return tuple(n for n in names if n)


def is_p7m(content: bytes) -> bool:
    """A CMS SignedData (a CAdES .p7m): DER, a SEQUENCE whose content type is signedData, or the same DER as
    base64 text (as some Italian signing tools save it)."""
    if len(content) > 16 and content[0] == 0x30 and _SIGNED_DATA_OID in content[:24]:
        return True
    if not _BASE64_RE.match(content[:80]):
        return False
    try:
        der = base64.b64decode(b"".join(content[:4096].split())[:64], validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(der) > 16 and der[0] == 0x30 and _SIGNED_DATA_OID in der[:24]


def detect_kind(content: bytes) -> str | None:
    """The kind of file `content` is (a key of KINDS), read from the bytes, never from the name; None if none."""
    if is_p7m(content):
        return "p7m"
    import puremagic

    try:
        matches = puremagic.magic_string(content[:65536])
    except (puremagic.PureError, ValueError):
        return None
    if not matches:
        return None
    best = max(matches, key=lambda m: m.confidence)
    kind = _MEDIA_KIND.get(best.mime_type)
    if kind == "pdf" and b"%PDF-" not in content[:1024]:
        return None  # a PDF signature found deep inside something else is not a PDF
    return kind


def check_content(content: bytes, *, kinds: Collection[str], max_bytes: int, inner: bytes | None = None) -> str:
    """The kind of an uploaded file, or InvalidData naming the file: empty, too large, or not of an accepted
    kind. A .p7m is accepted only if what it envelops (`inner`, when known) is of an accepted kind too."""
    if not content:
        raise InvalidData([_error("file", "il file è vuoto")])
    if len(content) > max_bytes:
        raise InvalidData([_error("file", f"il file è troppo grande ({size_text(len(content))}): "
                                          f"al massimo {size_text(max_bytes)}")])
    kind = detect_kind(content)
    accepted = ", ".join(k.upper() for k in kinds)
    if kind is None or kind not in kinds:
        found = f"è un file {kind.upper()}" if kind else "il contenuto non è riconosciuto"
        raise InvalidData([_error("file", f"tipo di file non ammesso ({found}): sono ammessi {accepted}")])
    if kind == "p7m" and inner is not None:
        inner_kind = detect_kind(inner)
        if inner_kind is None or inner_kind == "p7m" or inner_kind not in kinds:
            raise InvalidData([_error("file", f"il documento firmato contiene un file non ammesso: "
                                              f"sono ammessi {accepted}")])
    return kind


def size_text(n: int) -> str:
    """A size as people read it: «850 KB», «10 MB» (decimal comma)."""
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    value = f"{n / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
    return f"{value} MB"


def clean_filename(name: str | None, kind: str) -> str:
    """A safe name to show and to offer on download: no folders, no control characters, bounded, and ending
    with the extension of what the file really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".") or "documento"
    ext = KINDS[kind][1]
    stem = base[: -len(ext)] if base.lower().endswith(ext) else base.rsplit(".", 1)[0] if "." in base else base
    if kind == "p7m":
        stem = base[:-4] if base.lower().endswith(".p7m") else base
    return (stem.strip() or "documento")[: FILENAME_MAX - len(ext)] + ext


def check_meta(raw: Mapping[str, Any], *, now: datetime) -> DocumentMeta:
    """The declared part of a document ({doc_type, data_class, origin, filename, protocollo_numero,
    protocollo_data}), or InvalidData naming every bad field."""
    errors: list[FieldError] = []
    doc_type = str(raw.get("doc_type") or "").strip()
    if not doc_type:
        errors.append(_error("doc_type", "campo obbligatorio"))
    elif doc_type not in DOC_TYPES:
        errors.append(_error("doc_type", f"valore non ammesso: scegliere tra {', '.join(DOC_TYPES)}"))
    label = str(raw.get("data_class") or "sociale").strip().lower()
    data_class = CLASSES.get(label) or CLASSES.get({"sanitaria": "sanitario"}.get(label, ""))
    if data_class is None:
        errors.append(_error("data_class", "valore non ammesso: scegliere tra sociale, sanitario"))
    origin = str(raw.get("origin") or "caricato").strip()
    if origin not in ORIGINS:
        errors.append(_error("origin", f"valore non ammesso: scegliere tra {', '.join(ORIGINS)}"))
    numero = raw.get("protocollo_numero")
    numero = str(numero).strip() if numero not in (None, "") else None
    if numero is not None and (len(numero) > PROTOCOLLO_MAX or not _PROTOCOLLO_RE.match(numero)):
        errors.append(_error("protocollo_numero", f"al massimo {PROTOCOLLO_MAX} caratteri tra lettere, cifre "
                                                  "e / . - _ (es. 2026/0012345)"))
    when = raw.get("protocollo_data")
    day = None
    if when not in (None, ""):
        try:
            day = when if isinstance(when, date) and not isinstance(when, datetime) else \
                parse_date(str(when).strip(), years=(YEAR_MIN, YEAR_MAX))
            if day > now.astimezone(ROME).date():
                errors.append(_error("protocollo_data", "non può essere nel futuro"))
        except ValueError as exc:
            errors.append(_error("protocollo_data", str(exc)))
    if day is not None and numero is None:
        errors.append(_error("protocollo_numero", "la data di protocollo va data con il suo numero"))
    act = raw.get("act_name")
    if act is not None and (not isinstance(act, str) or not 0 < len(act) <= ACT_NAME_MAX):
        errors.append(_error("act_name", f"il nome dell'atto dichiarato, al massimo {ACT_NAME_MAX} caratteri"))
    if errors:
        raise InvalidData(errors)
    return DocumentMeta(doc_type, data_class, origin, str(raw.get("filename") or ""), numero, day)


def protocol_text(numero: str | None, day: date | None) -> str:
    if numero is None:
        return ""
    return f"n. {numero}" + (f" del {format_date(day)}" if day else "")


# ----------------------------------------------------------------------------- documents a transition requires


def required_for(case_type: str, transition: str) -> tuple[str, ...]:
    """The document types the case type declares as needed by `transition` (none if it declares none)."""
    from domain.registry import find_case_type

    ct = find_case_type(case_type)
    return tuple(ct.required_documents.get(transition, ())) if ct is not None else ()


def missing_documents(case_type: str, transition: str, present: Collection[str]) -> str | None:
    """None if the case has every document `transition` requires; otherwise the Italian reason."""
    missing = [t for t in required_for(case_type, transition) if t not in present]
    if not missing:
        return None
    names = ", ".join(f"«{DOC_TYPES[t]}»" for t in missing)
    return f"manca il documento richiesto {names}: caricarlo tra i documenti del caso"


def required_document_problems(required: Mapping[str, Collection[str]], transitions: Collection[str]) -> list[str]:
    """What is wrong with a case type's declared required documents (checked with its declaration)."""
    found = []
    for transition, types in required.items():
        if transition not in transitions:
            found.append(f"documento richiesto da una transizione inesistente: {transition}")
        found += [f"tipo di documento sconosciuto richiesto da {transition}: {t}" for t in types
                  if t not in DOC_TYPES]
    return found
