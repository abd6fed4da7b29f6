"""Italian conventions, written once: the time zone, euro amounts, numbers and dates (gg/mm/aaaa).

Pure: no I/O, no configuration. Every page, e-mail, report, service and the domain's own messages format and
parse through these functions, so that "€ 1.234,50" and "20/11/2026" mean the same thing everywhere.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
"""The one time zone of Legami: every local day and hour is read in it (the database keeps UTC)."""

DATE_FORMAT_MESSAGE = "data non valida (formato gg/mm/aaaa o aaaa-mm-gg)"

_ITALIAN_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_CENT = Decimal("0.01")


# ------------------------------------------------------------------ numbers and euro


def number(value: float | int | Decimal, decimals: int = 0) -> str:
    """1234.5 -> "1.234,5" (dot for thousands, comma for decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def quantity(value: Any, decimals: int | None = None) -> str:
    """A quantity as Italian text: 1234.5 -> "1.234,5", 19.50 -> "19,5", 3.0 -> "3", None or "" -> "".

    The decimals written are those the value needs (at most 2), unless `decimals` fixes them. The one formatter
    for hours, weights, scores and shares on pages, e-mails and reports (amounts in euro: `euro`). Anything that
    is not a number raises ValueError."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise ValueError(f"numero non riconosciuto: {value!r}")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"numero non riconosciuto: {value!r}") from None
    if decimals is None:
        amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP).normalize()
        exponent = amount.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    else:
        amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number(amount, decimals)


def euro(value: Any) -> str:
    """An amount in euro: 1234.5 -> "€ 1.234,50"; -3 -> "-€ 3,00"; None or "" -> "".

    Rounded half-up to the cent, on the amount as written: a float is read through its shortest repr, so 0.005
    is half a cent and becomes "€ 0,01". Anything that is not an amount raises ValueError."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ValueError(f"importo non riconosciuto: {value!r}") from None
    sign = "-" if amount < 0 else ""
    return f"{sign}€ {number(abs(amount), 2)}"


# ------------------------------------------------------------------ dates


def looks_like_date(text: str) -> bool:
    """Whether `text` is written as a date (gg/mm/aaaa or aaaa-mm-gg), valid or not."""
    return bool(_ITALIAN_DATE.match(text) or _ISO_DATE.match(text))


YEAR_RANGE = (1900, 2100)
"""The years a written date may fall in (earlier or later ones are typing errors); domain.bounds uses the same."""


def parse_date(text: str, *, years: tuple[int, int] = YEAR_RANGE) -> date:
    """"20/11/2026" (also 20.11.2026, 20-11-2026, 1/2/2026) or "2026-11-20" -> a date.

    Anything else, or a day that does not exist, raises ValueError(DATE_FORMAT_MESSAGE); a year outside
    `years` raises ValueError saying the range."""
    if match := _ITALIAN_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValueError(DATE_FORMAT_MESSAGE)
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise ValueError(DATE_FORMAT_MESSAGE) from None
    if not years[0] <= parsed.year <= years[1]:
        raise ValueError(f"la data deve cadere tra il {years[0]} e il {years[1]}")
    return parsed


def parse_iso(text: str) -> date | datetime:
    """Stored ISO text -> a date ("2026-11-20") or a datetime ("2026-11-20T14:30:00Z"); else ValueError."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_rome(value: datetime) -> datetime:
    """A datetime in Europe/Rome; a naive one is taken as UTC (the database keeps UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ROME)


def format_date(value: date | datetime | str) -> str:
    """A date, datetime or ISO text -> "20/11/2026"; an aware datetime is read in Europe/Rome, a naive one as it is."""
    if isinstance(value, str):
        value = parse_iso(value)
    if isinstance(value, datetime):
        value = as_rome(value).date() if value.tzinfo is not None else value.date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: date | datetime | str) -> str:
    """A datetime or ISO text -> "20/11/2026 14:30" in Europe/Rome (a naive one is UTC); a date -> "20/11/2026"."""
    if isinstance(value, str):
        value = parse_iso(value)
    if not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return as_rome(value).strftime("%d/%m/%Y %H:%M")
