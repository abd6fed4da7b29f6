"""SAD's demo year: the providers' adhesions (`demo_adhesions`), then the beneficiaries' cases, each driven
through the demo context with its visits, reviews and monthly logs. Pure.

Runs first (`order` 10): the FNA generator draws some applicants from the people it leaves in the context.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.demo import (PEOPLE_IN_HOME_CARE, ComuneInfo, DemoContext, DemoTally, Ev, ProviderInfo, Run, add_months,
                         allocate, generator, money, month_start, next_month)
from domain.casetypes.sad.demo_adhesions import Providers, adhesions
from domain.workflow import Role

SAD_OBIETTIVI = (
    "Mantenere la permanenza al domicilio", "Garantire l'igiene personale quotidiana",
    "Sostenere il caregiver familiare", "Prevenire l'isolamento sociale", "Garantire un'alimentazione adeguata",
    "Mantenere l'autonomia negli spostamenti in casa",
)
SERVIZI = ("igiene_personale", "pasti", "cura_ambiente", "accompagnamento", "socializzazione")
SAD_FATES = (
    ("active", 196), ("closed", 24), ("interrupted", 22), ("suspended", 10), ("referred", 6), ("withdrawn", 12),
    ("careplan", 6), ("not_admitted", 10), ("assessment", 6), ("voucher_issued", 6), ("archived", 6),
    ("under_review", 4), ("provider_chosen", 3), ("changed_provider", 9),
)

BASE_SAD = 340


def _summary(tally: DemoTally) -> dict[str, Any]:
    return {"sad_visits": tally.facts.get("sad_visits", 0)}


@generator(order=10, summary=_summary)
def demo(ctx: DemoContext) -> None:
    ctx.shared[PEOPLE_IN_HOME_CARE] = _SadYear(ctx, adhesions(ctx)).sad_cases()


class _SadYear:
    def __init__(self, ctx: DemoContext, providers: Providers):
        self.ctx = ctx
        self.csc = ctx.users(Role.CSC_ADMIN)
        self.active_from, self.operators = providers.active_from, providers.operators
        self.sad_start = providers.start
        ctx.facts.setdefault("sad_visits", 0)

    @property
    def visits(self) -> int:
        return self.ctx.facts["sad_visits"]

    @visits.setter
    def visits(self, value: int) -> None:
        self.ctx.facts["sad_visits"] = value

    def providers_for(self, istat: str, on: date, exclude: str | None = None) -> list[ProviderInfo]:
        ctx = self.ctx
        return [p for p in ctx.providers if self.active_from.get(p.codice) is not None
                and self.active_from[p.codice] <= on and istat in p.comuni and p.codice != exclude]

    def first_provider_day(self, istat: str) -> date | None:
        ctx = self.ctx
        days = [self.active_from[p.codice] for p in ctx.providers
                if self.active_from.get(p.codice) and istat in p.comuni]
        return min(days) if days else None

    # ------------------------------------------------------------------ beneficiaries' cases

    def sad_cases(self) -> list[tuple[dict, ComuneInfo]]:
        ctx = self.ctx
        fates = allocate(SAD_FATES, ctx.n(BASE_SAD))
        ctx.rng.shuffle(fates)
        people = []
        for fate in fates:
            rng = random.Random(ctx.rng.getrandbits(64))
            people.append(self.sad_case(fate, rng))
        return people

    def pattern(self, rng: random.Random) -> tuple[tuple[int, ...], int, int]:
        """(weekdays, visits a day, minutes a visit)."""
        u = rng.random()
        if u < 0.14:
            return (0, 1, 2, 3, 4, 5, 6), 2, 45  # morning and evening care, every day
        if u < 0.28:
            return (0, 1, 2, 3, 4, 5), 2, 45
        if u < 0.56:
            return (0, 1, 2, 3, 4, 5), 1, rng.choice((45, 60))
        if u < 0.85:
            return (0, 1, 2, 3, 4), 1, rng.choice((60, 60, 90))
        if u < 0.95:
            return (0, 2, 4), 1, rng.choice((60, 90))
        return (1, 4), 1, 120

    @staticmethod
    def weekly_hours(pattern: tuple[tuple[int, ...], int, int]) -> Decimal:
        days, per_day, minutes = pattern
        return money(Decimal(len(days) * per_day * minutes) / 60)

    def sad_case(self, fate: str, rng: random.Random) -> tuple[dict, ComuneInfo]:
        ctx = self.ctx
        comune = ctx.pick_comune(rng)
        istat, sub = comune.istat, comune.sub_ambito
        worker = rng.choice(ctx.workers[sub])
        elderly = rng.random() < 0.88
        person = ctx.persona(rng, comune, 66, 98) if elderly else ctx.persona(rng, comune, 35, 64)
        urgent = rng.random() < 0.12
        pat = self.pattern(rng)
        obiettivi = rng.sample(SAD_OBIETTIVI, rng.randint(1, 3))
        servizi = sorted(set(rng.sample(SERVIZI, rng.randint(1, 3))) | {"igiene_personale"})
        adl = rng.randint(1, 6)
        p = {
            "v": rng.randint(1, 2) if urgent else rng.randint(1, 8), "pai": rng.randint(1, 4),
            "choice": rng.randint(0, 4),
            "voucher": rng.randint(0, 3) if fate != "provider_chosen" else rng.randint(1, 3),
            "fv": rng.randint(1, 2) if urgent else rng.randint(1, 5), "u": rng.random(),
            "early_wd": rng.randint(2, 8), "early_at_referral": rng.random() < 0.5,
            "susp": fate == "suspended" or (fate in ("active", "closed", "withdrawn") and rng.random() < 0.12)
            or (fate == "interrupted" and rng.random() < 0.35),
            "susp_at": rng.randint(30, 150), "susp_len": rng.randint(7, 45),
            "change": fate == "changed_provider", "change_k": rng.randint(1, 4), "change_day": rng.randint(0, 2),
            "end_at": rng.randint(45, 240), "close_after": rng.randint(3, 20),
            "withdraw_before": fate == "withdrawn" and rng.random() < 0.4,
        }
        terminal = {"closed": "close", "interrupted": "end", "withdrawn": "end", "not_admitted": "end",
                    "archived": "end"}
        windows = {"referred": ("r", "v"), "assessment": ("v", "pa"), "careplan": ("pa", "c"),
                   "provider_chosen": ("c", "vo"), "voucher_issued": ("vo", "fv"), "active": ("fv", None),
                   "changed_provider": ("fv", None), "suspended": ("sp", "rs"), "under_review": ("end", "close")}

        def plan(r: date) -> dict:
            m: dict[str, Any] = {"r": r}
            m["v"] = v = ctx.wd(r, p["v"], istat)
            m["pa"] = pa = ctx.wd(v, p["pai"], istat)
            if fate in ("not_admitted", "archived"):
                m["end"] = ctx.wd(r if p["early_at_referral"] else v, p["early_wd"], istat)
                return m
            if fate == "withdrawn" and p["withdraw_before"]:
                m["end"] = ctx.wd(pa, p["early_wd"] // 2 + 1, istat)
                return m
            c = pa + timedelta(days=p["choice"])
            first = self.first_provider_day(istat)
            if first is None:  # no provider active yet (or none serves the comune)
                m["c"] = m["vo"] = m["fv"] = m["end"] = m["close"] = None
                return m
            m["c"] = c = ctx.nwd(max(c, first), istat)
            m["vo"] = vo = ctx.wd(c, p["voucher"], istat) if p["voucher"] else c
            m["fv"] = fv = ctx.wd(vo, p["fv"], istat)
            m["sp"] = sp = ctx.nwd(fv + timedelta(days=p["susp_at"]), istat)
            m["rs"] = ctx.nwd(sp + timedelta(days=p["susp_len"]), istat)
            m["end"] = x = ctx.nwd(fv + timedelta(days=p["end_at"]), istat)
            if fate == "interrupted" and p["susp"]:
                m["sp"] = sp = ctx.pwd(x - timedelta(days=min(p["susp_len"], 20)), istat)
                m["rs"] = None
            elif p["susp"] and m["rs"] >= x - timedelta(days=5) and fate not in ("suspended",):
                m["rs"] = ctx.pwd(x - timedelta(days=6), istat)
                m["sp"] = ctx.pwd(min(sp, m["rs"] - timedelta(days=7)), istat)
            if fate in ("closed", "under_review"):
                m["close"] = ctx.nwd(x + timedelta(days=p["close_after"]), istat)
            return m

        # users already known to the services, taken over by the voucher scheme as it starts
        cohort = (ctx.first_day, self.sad_start - timedelta(days=5))
        if fate in terminal:
            marks = ctx.place(plan, None, terminal[fate], rng, cohort=cohort,
                              cohort_share=0.5 if fate in ("closed", "interrupted") else 0.0)
        else:
            share = 0.85 if fate in ("active", "changed_provider") else 0.0
            marks = ctx.place(plan, windows[fate], None, rng, cohort=cohort, cohort_share=share)
        r = marks["r"]
        run = ctx.open("sad_caso", worker, r, {"persona": person, "fonte": rng.choice(
            ("cittadino", "medico_di_base", "dimissione_protetta", "servizi_sociali")), "urgente": urgent},
            comune=istat)
        if run is None:
            return person, comune
        evs: list[Ev] = []
        v, pa = marks["v"], marks["pa"]
        if fate in ("not_admitted", "archived") and p["early_at_referral"]:
            evs.append(ctx.ev(marks["end"], "non_ammette" if fate == "not_admitted" else "archivia", worker,
                              reason=_sad_early_reason(fate, rng)))
            return self._play_and_return(run, evs, person, comune)
        isee_val = money(rng.uniform(3000, 38000)) if rng.random() < 0.8 else None
        valuta = {"visita_domiciliare_il": v, "adl": adl, "iadl": min(8, adl + rng.randint(0, 3))}
        if isee_val is not None:
            valuta["isee_valore"] = isee_val
        evs.append(ctx.ev(v, "valuta", worker, valuta))
        if fate in ("not_admitted", "archived"):
            evs.append(ctx.ev(marks["end"], "non_ammette" if fate == "not_admitted" else "archivia", worker,
                              reason=_sad_early_reason(fate, rng)))
            return self._play_and_return(run, evs, person, comune)
        hours = self.weekly_hours(pat)
        evs.append(ctx.ev(pa, "redigi_pai", worker, {
            "obiettivi": obiettivi, "servizi": servizi, "ore_settimanali": hours,
            "revisione_il": pa + timedelta(days=30)}))
        if fate == "withdrawn" and p["withdraw_before"]:
            evs.append(ctx.ev(marks["end"], "rinuncia", worker, {"dichiarazione_del": marks["end"]}))
            return self._play_and_return(run, evs, person, comune)
        c = marks["c"]
        if c is None:  # dates do not allow a choice yet
            if any(self.active_from.values()):
                ctx.note(f"SAD: nessun ente attivo serve il comune di {comune.nome}")
            return self._play_and_return(run, evs, person, comune)
        options = self.providers_for(istat, c)
        prov = options[int(p["u"] * len(options))]
        evs.append(ctx.ev(c, "scegli_ente", worker, {"ente": prov.codice, "modulo_firmato_il": c}))
        rate = money(rng.choice((19.5, 20.8, 21.5, 22.0, 22.9, 23.5)))
        monthly_hours = (hours * 52 / 12).quantize(Decimal("0.5"))
        share = Decimal(0)
        if isee_val is not None and isee_val > 8000:
            share = min(money(monthly_hours * rate * Decimal("0.35")), money((isee_val - 8000) / 400))
        csc = rng.choice(self.csc)

        def voucher(on: date) -> dict:
            return {"ore_mensili": monthly_hours, "tariffa_oraria": rate, "quota_utente": share,
                    "valido_dal": on, "valido_al": max(date(ctx.year, 12, 31), on + timedelta(days=30))}

        vo, fv = marks["vo"], marks["fv"]
        evs.append(ctx.ev(vo, "emetti_voucher", csc, voucher(vo)))
        patterns = [(fv, pat)]
        main_op = {pr.codice: rng.choice(self.operators[pr.codice]) for pr in ctx.providers}

        def visit(on: date, pr: ProviderInfo, pattern: tuple) -> dict:
            op = main_op[pr.codice] if rng.random() < 0.8 else rng.choice(self.operators[pr.codice])
            return {"data": on, "operatore": op, "minuti": pattern[2],
                    "servizi": sorted(rng.sample(servizi, min(len(servizi), rng.randint(1, 2))))}

        evs.append(ctx.ev(fv, "prima_visita", prov.user, {"visita": visit(fv, prov, pat)}))
        self.visits += 1 if fv <= ctx.today else 0
        # ---- active life: suspension, provider change, end; intervals of ACTIVE with one provider
        leaves: list[tuple[date, str]] = []
        if p["susp"]:
            leaves.append((marks["sp"], "susp"))
        if p["change"]:
            b = ctx.nwd(add_months(month_start(fv), p["change_k"]) + timedelta(days=p["change_day"]), istat)
            if p["susp"] and marks["rs"] and marks["sp"] - timedelta(days=20) < b < marks["rs"] + timedelta(days=20):
                b = ctx.nwd(next_month(marks["rs"] + timedelta(days=20)), istat)
            leaves.append((b, "change"))
        if fate in ("closed", "under_review", "interrupted", "withdrawn"):
            leaves.append((marks["end"], "end"))
        leaves.sort()
        intervals: list[tuple[date, date | None, ProviderInfo]] = []
        visits_until: dict[int, date] = {}  # interval index -> last day + 1 (old voucher closed at month end)
        starts: list[date] = [fv]  # first visits (reviews are counted from them)
        start: date | None = fv
        current = prov
        suspended_until: date | None = None
        for when, what in leaves:
            if start is None:
                break
            if suspended_until is not None and when < suspended_until:
                continue
            if what == "susp":
                intervals.append((start, when, current))
                by_provider = rng.random() < 0.3
                evs.append(ctx.ev(when, "sospendi", current.user if by_provider else worker,
                                  reason="Ricovero ospedaliero"))
                rs = marks["rs"]
                if rs is None or fate == "interrupted":
                    start = None
                    suspended_until = date.max
                    if fate == "interrupted":
                        evs.append(ctx.ev(marks["end"], "interrompi", worker, reason="Decesso durante il ricovero"))
                    break
                evs.append(ctx.ev(rs, "riprendi", worker))
                start, suspended_until = rs, rs
            elif what == "change":
                others = self.providers_for(istat, when, exclude=current.codice)
                if not others:
                    continue
                new = rng.choice(others)
                visits_until[len(intervals)] = max(month_start(when), start + timedelta(days=1))
                intervals.append((start, when, current))
                evs.append(ctx.ev(when, "cambia_ente", worker, {
                    "ente": new.codice, "modulo_firmato_il": when - timedelta(days=rng.randint(5, 20))}))
                evs.append(ctx.ev(when, "emetti_voucher", csc, voucher(when)))
                first_visit = ctx.wd(when, rng.randint(1, 4), istat)
                current = new
                evs.append(ctx.ev(first_visit, "prima_visita", new.user, {"visita": visit(first_visit, new, pat)}))
                self.visits += 1 if first_visit <= ctx.today else 0
                start = first_visit
                starts.append(first_visit)
            else:  # the end of the case
                intervals.append((start, when, current))
                start = None
                if fate in ("closed", "under_review"):
                    evs.append(ctx.ev(when, "avvia_revisione", worker))
                    evs.append(ctx.ev(when, "avvia_verifica", worker))
                    reached = len(obiettivi) if rng.random() < 0.7 else rng.randint(0, len(obiettivi) - 1)
                    evs.append(ctx.ev(marks["close"], "chiudi", worker, {"obiettivi_raggiunti": reached}))
                elif fate == "interrupted":
                    evs.append(ctx.ev(when, "interrompi", worker, reason=rng.choice((
                        "Decesso del beneficiario", "Inserimento definitivo in RSA",
                        "Trasferimento fuori ambito presso i figli"))))
                else:
                    evs.append(ctx.ev(when, "rinuncia", worker, {"dichiarazione_del": when}))
        if start is not None:
            intervals.append((start, None, current))
        # ---- PAI reviews: 30 days after each first visit, then about every six months
        for i, first_visit in enumerate(starts):
            t = ctx.review_day(first_visit + timedelta(days=rng.randint(18, 34)), first_visit + timedelta(days=14),
                               istat)
            limit = starts[i + 1] if i + 1 < len(starts) else None
            while t <= ctx.today and (limit is None or t < limit):
                inside = any(a + timedelta(days=2) <= t and (b is None or t <= b - timedelta(days=3))
                             for a, b, _ in intervals)
                if inside:
                    evs.append(ctx.ev(t, "avvia_revisione", worker))
                    data: dict[str, Any] = {"esito_revisione": rng.choice((
                        "PAI confermato", "PAI confermato, obiettivi in linea", "Aggiornate le prestazioni"))}
                    if rng.random() < 0.12:
                        new_pat = self.pattern(rng)
                        patterns.append((t, new_pat))
                        data["ore_settimanali"] = self.weekly_hours(new_pat)
                    evs.append(ctx.ev(t, "conferma_pai", worker, data))
                t = ctx.review_day(t + timedelta(days=rng.randint(160, 190)), t + timedelta(days=120), istat)
        patterns.sort(key=lambda x: x[0])
        # ---- monthly visit logs, reported by the 10th of the next month (earlier if the case leaves ACTIVE)
        for index, (a, b, pr) in enumerate(intervals):
            stop_visits = visits_until.get(index, b)
            month = month_start(a)
            last = (b - timedelta(days=1)) if b else ctx.today
            while month <= month_start(last):
                upto = next_month(month)
                report = upto + timedelta(days=rng.randint(0, 9))
                if b is not None and (report >= b or month_start(b) == month):
                    report = b
                    upto = min(upto, b)
                if report > ctx.today:
                    break
                days = []
                d = max(a + timedelta(days=1), month)
                while d < upto and (stop_visits is None or d < stop_visits):
                    pattern = [pt for since, pt in patterns if since <= d][-1]
                    if d.weekday() in pattern[0]:
                        days.extend([(d, pattern)] * pattern[1])
                    d += timedelta(days=1)
                visits = [visit(day, pr, pt) for day, pt in days if rng.random() > 0.03]
                if visits:
                    self.visits += len(visits)
                    evs.append(ctx.ev(report, "registra_visite", pr.user, {"mese": month, "visite": visits},
                                      prio=0))
                month = next_month(month)
        return self._play_and_return(run, evs, person, comune)

    def _play_and_return(self, run: Run, evs: list[Ev], person: dict, comune: ComuneInfo):
        self.ctx.play(run, evs)
        return person, comune


def _sad_early_reason(fate: str, rng: random.Random) -> str:
    if fate == "not_admitted":
        return rng.choice(("Bisogno sanitario prevalente: attivata l'ADI", "Rete familiare in grado di assistere"))
    return rng.choice(("Decesso prima della presa in carico", "Ricovero definitivo in struttura"))
