"""The Italian conventions written once (domain/italian.py): the time zone, euro amounts, dates."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.italian import ROME, euro

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


# ------------------------------------------------------------------ euro: one formatter for pages, e-mails, reports


@pytest.mark.parametrize(("amount", "shown"), [
    (0, "€ 0,00"),
    (0.005, "€ 0,01"),  # half a cent rounds up (a float is read as written, not as its binary value)
    (0.004, "€ 0,00"),
    (2.675, "€ 2,68"),  # float formatting would print 2,67
    (0.125, "€ 0,13"),  # and banker's rounding 0,12
    (1234.5, "€ 1.234,50"),
    (1000000, "€ 1.000.000,00"),
    (-1234.5, "-€ 1.234,50"),  # the sign before the euro sign
    (-0.004, "€ 0,00"),  # no "-€ 0,00"
    (Decimal("1234.505"), "€ 1.234,51"),
    (Decimal("15000"), "€ 15.000,00"),
    ("99.9", "€ 99,90"),
])
def test_euro_is_italian_and_rounds_half_up_to_the_cent(amount, shown):
    assert euro(amount) == shown


def test_euro_shows_nothing_for_a_missing_amount_and_refuses_what_is_not_one():
    assert euro(None) == "" and euro("") == ""
    with pytest.raises(ValueError, match="importo non riconosciuto"):
        euro("dieci")


def test_pages_e_mails_reports_and_guard_messages_format_euro_alike():
    from domain.common import euro as guard_euro
    from notifications.render import ENV as MAIL
    from notifications.render import euro as mail_euro
    from reports.format import figure
    from web.templating import env as PAGES

    for amount in (0.005, 2.675, -1234.5, Decimal("1000000")):
        expected = euro(amount)
        assert guard_euro(amount) == mail_euro(amount) == figure(amount, "eur") == expected
        assert PAGES.filters["euro"](amount) == MAIL.filters["euro"](amount) == expected


def test_a_mail_with_an_amount_that_is_not_one_is_unsendable():
    from notifications.render import BadValue
    from notifications.render import euro as mail_euro

    with pytest.raises(BadValue):
        mail_euro("dieci")
