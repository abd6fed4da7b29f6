"""Italian formatting of the figures: 1.234,5 · € 1.234,50 · 33,3% · dd/mm/yyyy · "n<5" for hidden cells.

Numbers, euro amounts and days come from `domain.italian` (the pages and e-mails use the same functions);
this module adds the report's units, ranges and hidden cells."""
from __future__ import annotations

from datetime import date

from domain.italian import euro, format_date, number

UNIT_LABELS = {"n": "numero", "eur": "euro", "ore": "ore", "giorni": "giorni", "pct": "percentuale",
               "tasso": "tasso medio (0–1, mostrato in %)"}
OUTCOMES = {"sotto": "sotto il range", "entro": "entro il range", "sopra": "sopra il range"}
MISSING = "—"


def _decimals(value: float | int) -> int:
    return 0 if float(value).is_integer() else 1


def figure(value: float | int | None, unit: str) -> str:
    """A value in its unit, Italian style; None (no data) is a dash."""
    if value is None:
        return MISSING
    if unit == "eur":
        return euro(value)
    if unit == "pct":
        return f"{number(value, 1)}%"
    if unit == "tasso":
        return f"{number(100 * value, 1)}%"
    return number(value, _decimals(value))


def tick(value: float, unit: str) -> str:
    """An axis label: as few decimals as the value needs ("50%", "€ 2.500", "12,5")."""
    scaled = 100 * value if unit == "tasso" else value
    text = number(scaled, _decimals(scaled))
    return f"€ {text}" if unit == "eur" else f"{text}%" if unit in ("pct", "tasso") else text


def hidden(threshold: int) -> str:
    return f"n<{threshold}"


def cell(c: dict, unit: str, threshold: int) -> str:
    """A tally cell {"valore","n","soppresso"}: a suppressed one is never printed as a number (nor as 0)."""
    return hidden(threshold) if c.get("soppresso") else figure(c.get("valore"), unit)


def people(c: dict, threshold: int) -> str:
    if c.get("soppresso"):
        return hidden(threshold)
    return MISSING if c.get("n") is None else number(c["n"])


def band(low: float, high: float, unit: str) -> str:
    """The target range: "70–75%", "50–75", or a single value "100"."""
    if unit == "eur":
        return figure(low, unit) if low == high else f"{figure(low, unit)} – {figure(high, unit)}"
    suffix = "%" if unit in ("pct", "tasso") else ""
    scale = 100 if unit == "tasso" else 1
    low_text, high_text = number(low * scale, _decimals(low * scale)), number(high * scale, _decimals(high * scale))
    return f"{low_text}{suffix}" if low == high else f"{low_text}–{high_text}{suffix}"


def outcome(status: str | None) -> str:
    return OUTCOMES.get(status or "", "non valutabile")


def day(iso: str | date) -> str:
    """"2026-11-20" -> "20/11/2026"."""
    return format_date(iso)


def csv_number(value: float | int | None) -> str:
    """A plain number for CSV: no thousands separator, decimal comma (what Italian Excel parses)."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(round(float(value), 4)).replace(".", ",")
