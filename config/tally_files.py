"""Tally settings: the privacy threshold and the targets (range di valutazione) per year."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from config.locate import locate

CONFIG = Path(__file__).parent / "tallies.toml"


@dataclass(frozen=True)
class Target:
    low: float
    high: float
    source: str = ""


APPORTIONMENTS = ("popolazione",)


@dataclass(frozen=True)
class TallySettings:
    threshold: int
    targets: dict[str, dict[str, Target]]  # year (or "default") -> indicator -> target
    # How the district's targets become each sub-ambito's: "popolazione" (a count or a sum in proportion to the
    # residents of the sub-ambito's comuni; a percentage or a mean unchanged), unless written per sub-ambito.
    apportionment: str = "popolazione"
    area_targets: dict[str, dict[str, dict[str, Target]]] = field(default_factory=dict)  # year -> area -> code

    def targets_for(self, year: int) -> dict[str, Target]:
        return self.targets.get(str(year), self.targets.get("default", {}))

    def area_targets_for(self, year: int) -> dict[str, dict[str, Target]]:
        return self.area_targets.get(str(year), self.area_targets.get("default", {}))


def _targets(table: dict) -> dict[str, Target]:
    return {code: Target(float(t["min"]), float(t["max"]), t.get("fonte", "")) for code, t in table.items()}


def load_tally_settings(path: Path | str | None = None, *, ambito_dir: Path | str | None = None) -> TallySettings:
    """The threshold and targets: `path`, or the file `config.locate` finds (Ambito, instance, packaged)."""
    raw = tomllib.loads(Path(path or locate("tallies.toml", ambito_dir)).read_text(encoding="utf-8"))
    targets = {str(year): _targets(table) for year, table in raw.get("obiettivi", {}).items()}
    apportionment = raw.get("ripartizione_obiettivi", "popolazione")
    if apportionment not in APPORTIONMENTS:
        raise ValueError(f"ripartizione_obiettivi: valore non ammesso «{apportionment}» "
                         f"(ammessi: {', '.join(APPORTIONMENTS)})")
    areas = {str(year): {area: _targets(table) for area, table in by_area.items()}
             for year, by_area in raw.get("obiettivi_sub_ambito", {}).items()}
    return TallySettings(int(raw.get("soglia_riservatezza", 5)), targets, apportionment, areas)
