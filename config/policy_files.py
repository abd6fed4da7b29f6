"""Loading versioned policies from TOML files (config/policies/*.toml by default)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from config.locate import locate
from domain.policy import Policy

POLICIES_DIR = Path(__file__).parent / "policies"


def load_policy_file(path: Path | str) -> Policy:
    path = Path(path)
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        version, valid_from = str(raw.pop("version")), raw.pop("valid_from")
    except KeyError as exc:
        raise ValueError(f"{path.name}: manca il campo «{exc.args[0]}»") from None
    description = str(raw.pop("description", ""))
    return Policy(version=version, valid_from=valid_from, values=raw, description=description)


def load_policies(folder: Path | str | None = None, *, ambito_dir: Path | str | None = None) -> list[Policy]:
    folder = Path(folder) if folder else locate("policies", ambito_dir)
    return [load_policy_file(p) for p in sorted(folder.glob("*.toml"))]
