"""Where an Ambito's settings files come from: the inheritance rule, stated once.

For each settings file (`obligations.toml`, `reminders.toml`, `tallies.toml`, the `policies/` folder) the first
that exists wins:

1. the Ambito's own folder (the folder `legami ambito load` read: `config/districts/<code>/` for the packaged ones);
2. the instance's folder, `LEGAMI_CONFIG_DIR` (set by whoever runs the instance, outside the installed package);
3. the packaged default in `config/`.

A file is taken whole, never merged key by key: an Ambito that keeps its own `obligations.toml` declares its
whole calendar. So editing the installed package is never needed to change a calendar, a policy or a target.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGED_DIR = Path(__file__).parent
SETTINGS_FILES = ("obligations.toml", "reminders.toml", "tallies.toml", "policies")
ENV_VAR = "LEGAMI_CONFIG_DIR"


def instance_dir() -> Path | None:
    """The instance's settings folder (`LEGAMI_CONFIG_DIR`), None when unset. Read at each call, so a process
    (or a test) that sets it later is heard."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


def candidates(name: str, ambito_dir: Path | str | None = None) -> list[tuple[str, Path]]:
    """(level, path) in the order they are tried: Ambito, instance, packaged."""
    found = []
    if ambito_dir is not None:
        found.append(("ambito", Path(ambito_dir) / name))
    if (instance := instance_dir()) is not None:
        found.append(("istanza", instance / name))
    found.append(("predefinito", PACKAGED_DIR / name))
    return found


def locate(name: str, ambito_dir: Path | str | None = None) -> Path:
    """The settings file (or folder) `name` that applies: the first of `candidates` that exists."""
    return resolve(name, ambito_dir)[1]


def resolve(name: str, ambito_dir: Path | str | None = None) -> tuple[str, Path]:
    """(level, path) of the settings file that applies (see the module's rule)."""
    if name not in SETTINGS_FILES:
        raise ValueError(f"file di impostazioni sconosciuto: {name}")
    tried = candidates(name, ambito_dir)
    for level, path in tried:
        if path.exists():
            return level, path
    return tried[-1]
