"""What a test can check of a PDF/A without veraPDF (which installs from none of the registries these machines
reach): the XMP identification (pdfaid:part and conformance), the OutputIntent with its ICC profile, every font
embedded, no encryption; and the text, for the Italian wording."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import IndirectObject

PDFAID = re.compile(rb'pdfaid:part="(\d)"\s+pdfaid:conformance="([ABU])"')


def _resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _fonts(reader: PdfReader):
    for page in reader.pages:
        resources = _resolve(page.get("/Resources")) or {}
        for font in (_resolve(resources.get("/Font")) or {}).values():
            font = _resolve(font)
            if font.get("/Subtype") == "/Type0":
                yield font, _resolve(_resolve(font["/DescendantFonts"])[0])
            else:
                yield font, font


def pdfa_problems(pdf: bytes, *, part: str = "2", conformance: str = "B") -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    if reader.is_encrypted:
        found.append("cifrato")
    root = reader.trailer["/Root"]
    metadata = _resolve(root.get("/Metadata"))
    match = PDFAID.search(metadata.get_data()) if metadata is not None else None
    if match is None:
        found.append("identificazione PDF/A assente nei metadati XMP")
    elif (match.group(1).decode(), match.group(2).decode()) != (part, conformance):
        found.append(f"PDF/A-{match.group(1).decode()}{match.group(2).decode().lower()} invece di "
                     f"PDF/A-{part}{conformance.lower()}")
    intents = [_resolve(i) for i in (_resolve(root.get("/OutputIntents")) or [])]
    if not any(i.get("/S") == "/GTS_PDFA1" and i.get("/DestOutputProfile") is not None for i in intents):
        found.append("OutputIntent PDF/A con profilo ICC assente")
    for font, descendant in _fonts(reader):
        if font.get("/Subtype") == "/Type3":
            continue  # glyphs drawn by the file itself: nothing to embed
        descriptor = _resolve(descendant.get("/FontDescriptor")) or {}
        if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            found.append(f"font non incorporato: {font.get('/BaseFont')}")
    if not list(_fonts(reader)):
        found.append("nessun font")
    return found


def pdf_text(pdf: bytes) -> str:
    """The text of every page, whitespace collapsed (a line break in the PDF is a space here)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def pdf_title(pdf: bytes) -> str | None:
    return PdfReader(io.BytesIO(pdf)).metadata.title
