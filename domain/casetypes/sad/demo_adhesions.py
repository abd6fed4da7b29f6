"""SAD's demo providers: their adhesions to the scheme, as in the minutes of 27 February 2019. Pure."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.demo import DemoContext, ProviderInfo
from domain.demo_people import FEMALE_NAMES, MALE_NAMES, SURNAMES, helper_name
from domain.workflow import Role


@dataclass
class Providers:
    """What the adhesions leave for the beneficiaries' cases."""

    start: date  # the Monday the voucher scheme starts
    active_from: dict[str, date] = field(default_factory=dict)  # provider codice -> adhesion active since
    operators: dict[str, list[str]] = field(default_factory=dict)  # provider codice -> its operators


def adhesions(ctx: DemoContext) -> Providers:
    """27 Feb 2019 minutes pattern: all invited; most answer and sign; a few still to answer."""
    rng = random.Random(ctx.rng.getrandbits(64))
    y = ctx.year
    invited_on = ctx.first_day
    start = date(y, 1, 19)
    while start.weekday() != 0:  # the service starts on a Monday, as on 1 April 2019
        start += timedelta(days=1)
    found = Providers(start)
    csc_staff = ctx.users(Role.CSC_ADMIN)
    everyone = frozenset(ci.istat for ci in ctx.comuni)
    order = list(ctx.providers)
    rng.shuffle(order)
    first_wave: list[ProviderInfo] = []
    covered: set[str] = set()
    while covered != everyone and order:  # greedy cover first: every comune has a provider on day one
        best = max(order, key=lambda p: len(p.comuni - covered))
        if not best.comuni - covered:
            break
        first_wave.append(best)
        covered |= best.comuni
        order.remove(best)
    n = len(ctx.providers)
    wave_size = max(len(first_wave), round(n * 5 / 11))
    while len(first_wave) < wave_size and order:
        first_wave.append(order.pop(0))
    late_signers = [order.pop(0) for _ in range(min(len(order), round(n * 2 / 11)))]
    answered_only = [order.pop(0) for _ in range(min(len(order), round(n * 1 / 11)))]
    declined = [order.pop(0) for _ in range(min(len(order), round(n * 1 / 11)))]
    never = order  # still INVITED: CSC chases them
    for prov in ctx.providers:
        found.operators[prov.codice] = [f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)[0]}."
                          for _ in range(rng.randint(6, 12))]
    for prov in ctx.providers:  # in codice order, so case ids are stable
        csc = rng.choice(csc_staff)
        run = ctx.open("sad_adesione", csc, invited_on, {"ente": prov.codice, "inviato_il": invited_on})
        if run is None:
            continue
        validity = date(y, 12, 31)
        if prov in first_wave:
            answered = invited_on + timedelta(days=rng.randint(2, 8))
            signed = max(answered + timedelta(days=2), ctx.pwd(start - timedelta(days=rng.randint(3, 10))))
            activated = start
        elif prov in late_signers:
            answered = invited_on + timedelta(days=rng.randint(5, 14))
            signed = ctx.nwd(start + timedelta(days=rng.randint(14, 45)))
            activated = ctx.wd(signed, rng.randint(1, 5))
        elif prov in answered_only:
            answered, signed, activated = invited_on + timedelta(days=rng.randint(8, 14)), None, None
        else:
            answered = signed = activated = None
        if prov in declined:
            ctx.advance(run, "declina", csc, ctx.nwd(start + timedelta(days=rng.randint(5, 20))),
                        reason="Carenza di operatori per il servizio domiciliare")
            continue
        if prov in never:
            continue
        ctx.advance(run, "rispondi", prov.user, answered, {"referente": helper_name(rng), "risposto_il": answered})
        if signed is None:
            continue
        ctx.advance(run, "firma", csc, signed, {"firmato_il": signed, "valido_fino": validity,
                                                "comuni": sorted(prov.comuni)})
        if ctx.advance(run, "attiva", ctx.system_user if activated == start else csc, activated):
            found.active_from[prov.codice] = activated
    return found
