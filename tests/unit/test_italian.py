"""The Italian conventions written once (domain/italian.py): the time zone, euro amounts, dates."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from domain.italian import DATE_FORMAT_MESSAGE, ROME, euro, format_date, format_datetime, parse_date

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


# ------------------------------------------------------------------ dates: one parser, one dd/mm/yyyy formatter


@pytest.mark.parametrize(("text", "day"), [
    ("20/11/2026", date(2026, 11, 20)),
    ("1/2/2026", date(2026, 2, 1)),
    ("20.11.2026", date(2026, 11, 20)),
    ("20-11-2026", date(2026, 11, 20)),
    (" 2026-11-20 ", date(2026, 11, 20)),
    ("29/02/2024", date(2024, 2, 29)),
])
def test_a_date_is_read_as_gg_mm_aaaa_or_aaaa_mm_gg(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["31/02/2024", "29/02/2026", "2026-13-01", "20261120", "2026-W47-5", "2026-1-5",
                                  "11/20", "ieri", "", "2026-11-20T10:00"])
def test_anything_else_is_refused_with_the_one_italian_message(text):
    with pytest.raises(ValueError, match=re.escape(DATE_FORMAT_MESSAGE)):
        parse_date(text)


def test_the_web_form_the_outbox_filter_and_the_declarations_read_a_date_alike():
    from domain.errors import InvalidData
    from services.outbox_admin import parse_day
    from web.forms import parse_effective_date

    for text in ("20.11.2026", "2026-11-20", "1/2/2026"):
        assert parse_effective_date(text)[0] == parse_day(text) == parse_date(text)
    for text in ("20261120", "31/02/2024"):
        value, error = parse_effective_date(text)
        assert value is None and error.message == DATE_FORMAT_MESSAGE
        with pytest.raises(InvalidData):
            parse_day(text)


@pytest.mark.parametrize(("value", "shown"), [
    (date(2026, 1, 2), "02/01/2026"),
    ("2026-01-02", "02/01/2026"),
    (datetime(2026, 1, 1, 23, 30, tzinfo=timezone.utc), "02/01/2026"),  # 00:30 in Rome: the next day
    (datetime(2026, 1, 1, 23, 30), "01/01/2026"),  # a naive datetime is taken as it is
    ("2026-07-31T22:30:00Z", "01/08/2026"),
])
def test_a_day_is_shown_as_dd_mm_yyyy_in_rome(value, shown):
    assert format_date(value) == shown


def test_a_moment_is_shown_in_rome_and_a_naive_one_is_utc():
    assert format_datetime(datetime(2026, 7, 31, 22, 30)) == "01/08/2026 00:30"
    assert format_datetime("2026-01-15T08:05:00+00:00") == "15/01/2026 09:05"
    assert format_datetime(date(2026, 1, 15)) == "15/01/2026"


def test_pages_e_mails_and_reports_show_a_day_alike():
    from notifications.render import data_it
    from reports.format import day
    from web.templating import env as PAGES

    for value in (date(2026, 3, 9), "2026-03-09"):
        assert data_it(value) == day(value) == PAGES.filters["data_it"](value) == format_date(value) == "09/03/2026"


@pytest.mark.parametrize(("value", "expected"), [
    (19.5, "19,5"), ("4.50", "4,5"), (45.5, "45,5"), (1234.5, "1.234,5"), (3.0, "3"), (Decimal("100"), "100"),
    (0.333, "0,33"), (1234567.891, "1.234.567,89"), (None, ""), ("", ""),
])
def test_quantities_are_written_the_italian_way_with_the_decimals_they_need(value, expected):
    from domain.italian import quantity

    assert quantity(value) == expected


def test_a_quantity_can_fix_its_decimals_and_refuses_what_is_not_a_number():
    from domain.italian import quantity

    assert quantity(2.5, 2) == "2,50"
    with pytest.raises(ValueError, match="numero non riconosciuto"):
        quantity("tre")
