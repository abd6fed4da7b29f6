"""Targets per sub-ambito (issue 14 item 4): each row of a tally by sub-ambito gets its own range di valutazione,
its sotto/entro/sopra band and its year-end projection, as the district total has.

A sub-ambito's range is the one written for it in config/tallies.toml ([obiettivi_sub_ambito]) or else the
district's apportioned (`ripartizione_obiettivi = "popolazione"`): a yearly flow (a count or a sum, `cumulative`)
in proportion to the residents of the sub-ambito's comuni (comuni.csv), a percentage, a mean or a ratio unchanged.
The projection is the district's rule: a yearly flow divided by the share of the year elapsed, else the value.
A hidden cell stays hidden: no value, no band, no projection. Rows that are no sub-ambito (district-level cases)
get no target.
"""
from __future__ import annotations

from typing import Any

from config.tally_files import TallySettings, Target
from domain.indicators import Period, target_status


def population_shares(comuni: list[Any]) -> dict[str, float]:
    """{sub-ambito: its share of the district's residents} from the comuni's rows (reference.comuni)."""
    totals: dict[str, int] = {}
    for c in comuni:
        if c.sub_ambito:
            totals[c.sub_ambito] = totals.get(c.sub_ambito, 0) + (c.popolazione or 0)
    district = sum(totals.values())
    return {area: n / district for area, n in totals.items()} if district else {}


def judged(target: Target, value: float | None, cumulative: bool, period: Period) -> dict[str, Any]:
    """A target with the value's band and the year-end projection's (the district total's form)."""
    projection = round(value / period.elapsed_share, 1) if value is not None and cumulative else value
    return {"min": target.low, "max": target.high, "fonte": target.source,
            "esito": target_status(value, target.low, target.high),
            "proiezione_fine_anno": projection, "esito_proiezione": target_status(projection, target.low, target.high)}


def area_target(code: str, area: str, district: Target, *, flow: bool, shares: dict[str, float],
                settings: TallySettings, year: int) -> Target | None:
    written = settings.area_targets_for(year).get(area, {}).get(code)
    if written is not None:
        return written
    if area not in shares:
        return None
    if not flow:
        return Target(district.low, district.high, f"{district.source} (uguale per ogni sub-ambito)".strip())
    share = shares[area]
    return Target(round(district.low * share, 1), round(district.high * share, 1),
                  f"ripartito per popolazione ({share:.1%} dei residenti) da: {district.source}".replace(".", ",", 1))


def with_area_targets(indicator: dict[str, Any], *, by: str, flow: bool, cumulative: bool,
                      shares: dict[str, float], settings: TallySettings, period: Period) -> dict[str, Any]:
    """`indicator` with an "obiettivo" on each of its rows by sub-ambito (None where there is none)."""
    if by != "sub_ambito":
        return indicator
    district = settings.targets_for(period.year).get(indicator["codice"])
    for line in indicator["righe"]:
        target = None if district is None else area_target(
            indicator["codice"], line["chiave"], district, flow=flow, shares=shares, settings=settings,
            year=period.year)
        line["obiettivo"] = None if target is None else judged(target, line["valore"], cumulative, period)
    return indicator
