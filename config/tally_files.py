"""Tally settings: the privacy threshold and the targets (range di valutazione) per year."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from config.locate import locate

CONFIG = Path(__file__).parent / "tallies.toml"


@dataclass(frozen=True)
class Target:
    low: float
    high: float
    source: str = ""


@dataclass(frozen=True)
class TallySettings:
    threshold: int
    targets: dict[str, dict[str, Target]]  # year (or "default") -> indicator -> target

    def targets_for(self, year: int) -> dict[str, Target]:
        return self.targets.get(str(year), self.targets.get("default", {}))


def load_tally_settings(path: Path | str | None = None, *, ambito_dir: Path | str | None = None) -> TallySettings:
    """The threshold and targets: `path`, or the file `config.locate` finds (Ambito, instance, packaged)."""
    raw = tomllib.loads(Path(path or locate("tallies.toml", ambito_dir)).read_text(encoding="utf-8"))
    targets = {
        str(year): {code: Target(float(t["min"]), float(t["max"]), t.get("fonte", "")) for code, t in table.items()}
        for year, table in raw.get("obiettivi", {}).items()
    }
    return TallySettings(int(raw.get("soglia_riservatezza", 5)), targets)
