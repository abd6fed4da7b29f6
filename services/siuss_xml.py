"""The PS/PSA/SINA flow as XML (namespace http://inps.it/Casellario), validated against INPS's published schema
shipped in config/inps/ (xmlschema). A flow that does not validate is never written nor recorded."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import config

INPS_DIR = Path(config.__file__).resolve().parent / "inps"  # package data of `config` (pyproject.toml)
SCHEMAS = {"PS_PSA_SINA": INPS_DIR / "PS_PSA_SINA201812.xsd", "SINBA": INPS_DIR / "SINBA.xsd"}
NS = "http://inps.it/Casellario"


@dataclass
class Item:
    codice_fiscale: str
    anagrafica: dict[str, str]
    address: dict[str, str]
    operation: str
    attributes: dict[str, str]
    sina: dict[str, str] | None = None
    invalidity: list[str] = field(default_factory=list)


@lru_cache
def schema(kind: str = "PS_PSA_SINA"):
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMAS[kind]))


def problems(xml: str, kind: str = "PS_PSA_SINA") -> list[str]:
    """Every way `xml` breaks the schema (empty: valid)."""
    return [f"{e.path or ''}: {e.reason}" for e in schema(kind).iter_errors(xml)]


def build(name: str, ente: dict[str, str], items: list[Item]) -> str:
    """The flow `name` with one Beneficiario per codice fiscale, its PrestazioniSociali in the given order."""
    ET.register_namespace("", NS)
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("Flusso"))
    ident = ET.SubElement(root, q("IdentificazioneFlusso"), {"Nome": name})
    ET.SubElement(ident, q("Ente"), ente)
    by_person: dict[str, list[Item]] = {}
    for item in items:
        by_person.setdefault(item.codice_fiscale, []).append(item)
    for cf, own in by_person.items():
        person = ET.SubElement(root, q("Beneficiario"), {"CodiceFiscale": cf})
        ET.SubElement(person, q("Anagrafica"), own[0].anagrafica)
        ET.SubElement(person, q("Indirizzo"), own[0].address)
        for item in own:
            benefit = ET.SubElement(person, q("PrestazioniSociali"), {"TipoOperazione": item.operation,
                                                                        **item.attributes})
            if item.sina:
                sina = ET.SubElement(benefit, q("SINA"), item.sina)
                if item.invalidity:
                    inv = ET.SubElement(sina, q("InvaliditaCivile"))
                    for code in item.invalidity:
                        ET.SubElement(inv, q("InvCiv")).text = code
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
