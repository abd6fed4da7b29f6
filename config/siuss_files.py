"""The Ambito's CodicePrestazione table for the Casellario dell'Assistenza (<district folder>/siuss.toml)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from config.district import DEFAULT_DISTRICT_DIR


@dataclass(frozen=True)
class SiussCodes:
    codes: dict[str, tuple[str, str]]  # prestazione key -> (CodicePrestazione, denominazione)
    provisional: bool
    note: str


def load_siuss_codes(district_path: Path | str | None = None) -> SiussCodes:
    """The table of the Ambito in `district_path` (default: the packaged one); a missing or bad entry is refused
    naming it. A district folder without siuss.toml uses the packaged provisional table."""
    folder = Path(district_path) if district_path is not None else DEFAULT_DISTRICT_DIR
    path = folder / "siuss.toml"
    if not path.is_file():
        path = DEFAULT_DISTRICT_DIR / "siuss.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    codes = {}
    for key, item in raw.get("prestazioni", {}).items():
        code, name = str(item.get("codice", "")).strip(), str(item.get("denominazione", "")).strip()
        if not 5 <= len(code) <= 10:
            raise ValueError(f"siuss.toml, prestazione «{key}»: codice da 5 a 10 caratteri (es. A1.11)")
        if not 10 <= len(name) <= 200:
            raise ValueError(f"siuss.toml, prestazione «{key}»: denominazione da 10 a 200 caratteri")
        codes[key] = (code, name)
    return SiussCodes(codes, bool(raw.get("provvisoria", True)), str(raw.get("nota", "")))
