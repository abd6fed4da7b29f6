"""The Italian conventions written once (domain/italian.py): the time zone, euro amounts, dates."""
from __future__ import annotations

import re
from pathlib import Path

from domain.italian import ROME

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bench", "cli", "config", "domain", "flows", "notifications", "reports", "services", "store", "web")


def _python_sources():
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:  # a migration is frozen history: it keeps its own copy
                yield path


def test_the_time_zone_is_europe_rome():
    assert ROME.key == "Europe/Rome"


def test_no_module_but_domain_italian_builds_its_own_time_zone():
    own = [str(p.relative_to(ROOT)) for p in _python_sources()
           if re.search(r"ZoneInfo\(", p.read_text(encoding="utf-8")) and p.name != "italian.py"]
    assert own == []


def test_settings_offer_no_time_zone_that_nothing_would_read():
    from config.settings import Settings

    assert "timezone" not in Settings.model_fields
