"""The demo year's measures of other bodies: a few older or disabled people of the district with a Misura B1 from
ATS, a residential admission or a BAF, recorded by their worker or by CSC, some of them ended during the year.
Pure: it drives its cases through the DemoContext, after the FNA applications (so that none of these people is
refused an application the FNA demo scripted)."""
from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from domain.demo import DemoContext, DemoTally, allocate, generator
from domain.workflow import Role

BASE_RECORDS = 12
MEASURES = (("B1", "ATS della Val Padana", 6), ("RSA", "RSA del territorio cremasco", 3),
            ("BAF", "Regione Lombardia", 2), ("Home Care Premium", "INPS", 1))


def _summary(tally: DemoTally) -> dict[str, Any]:
    cases = tally.cases.get("misura_esterna", {})
    return {"misura_esterna": {"cases": sum(cases.values()), "ended": cases.get("ENDED", 0)}}


@generator(order=90, summary=_summary)
def demo(ctx: DemoContext) -> None:
    csc = ctx.users(Role.CSC_ADMIN)
    kinds = allocate(tuple(((m, body), w) for m, body, w in MEASURES), ctx.n(BASE_RECORDS))
    for measure, body in kinds:
        _record(ctx, measure, body, random.Random(ctx.rng.getrandbits(64)), csc)


def _record(ctx: DemoContext, measure: str, body: str, rng: random.Random, csc: list[str]) -> None:
    comune = ctx.pick_comune(rng)
    istat = comune.istat
    who = rng.choice((rng.choice(ctx.workers[comune.sub_ambito]), rng.choice(csc))) if csc else \
        rng.choice(ctx.workers[comune.sub_ambito])
    span = max(1, (ctx.today - ctx.first_day).days - 10)
    recorded = ctx.nwd(ctx.first_day + timedelta(days=rng.randint(0, span)), istat)
    since = recorded - timedelta(days=rng.randint(30, 700))
    run = ctx.open("misura_esterna", who, recorded, {
        "persona": ctx.persona(rng, comune, 70, 95) if measure != "BAF" else ctx.persona(rng, comune, 18, 90),
        "misura": measure, "ente_erogatore": body, "dal": since}, comune=istat)
    if run is not None and rng.random() < 0.25:
        ended = ctx.wd(recorded, rng.randint(20, 120), istat)
        ctx.advance(run, "cessa", who, ended, {"al": ended})
