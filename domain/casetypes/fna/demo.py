"""FNA Misura B2's demo year: the call (approved, open a month, ranked, funded) and its applications
(checks, requests for documents, assessment, notices of rejection, funding by rank, plans and monthly
payments, lapses and the scrolling of the ranking). Pure.

Runs after SAD (`order` 30): some applicants are people the home-care service already follows.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.casetypes.fna import ranking as rk
from domain.demo import (PEOPLE_IN_HOME_CARE, ComuneInfo, DemoContext, DemoTally, Ev, add_months, allocate,
                         generator, month_start, next_month)
from domain.demo_people import helper_name
from domain.workflow import Role

DOCUMENTI = (
    "certificazione L. 104/92 art. 3 c. 3", "verbale di invalidità con indennità di accompagnamento",
    "documento d'identità del caregiver", "contratto dell'assistente personale", "attestazione ISEE completa",
)

FNA_FATES = (
    ("eligible", 246), ("rejected", 18), ("archived", 12), ("withdrawn", 9), ("accepted_after_notice", 3),
    ("info_answered", 12),
)

BASE_FNA = 300
FNA_BUDGET = Decimal(450000)


def _summary(tally: DemoTally) -> dict[str, Any]:
    budget = tally.facts.get("fna_budget")
    return {"fna_budget": str(budget) if budget is not None else None}


@generator(order=30, summary=_summary)
def demo(ctx: DemoContext) -> None:
    _FnaYear(ctx).fna(ctx.shared.get(PEOPLE_IN_HOME_CARE, []))


class _FnaYear:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.csc = ctx.users(Role.CSC_ADMIN)
        self.udp = ctx.users(Role.PLANNING_OFFICE)
        self.health = ctx.users(Role.HEALTH_ASSESSOR)[0]

    def fna(self, sad_people: list[tuple[dict, ComuneInfo]]) -> None:
        ctx = self.ctx
        rng = random.Random(ctx.rng.getrandbits(64))
        y = ctx.year
        udp, sistema = self.udp[0], ctx.system_user
        opens, closes = date(y, 6, 10), date(y, 7, 10)
        provisional = ctx.nwd(closes + timedelta(days=40))
        final = ctx.nwd(provisional + timedelta(days=20))
        decided = ctx.nwd(final + timedelta(days=2))
        budget = max(Decimal(5000), (FNA_BUDGET * Decimal(str(ctx.scale)) / 1000).quantize(Decimal(1)) * 1000)
        ctx.facts["fna_budget"] = budget
        misure = [{"misura": "caregiver", "importo_min": Decimal(100), "importo_max": Decimal(400)},
                  {"misura": "assistente_personale", "importo_min": Decimal(100), "importo_max": Decimal(800)},
                  {"misura": "vita_indipendente", "importo_min": Decimal(100), "importo_max": Decimal(800)}]
        call = ctx.open("fna_bando", udp, ctx.nwd(date(y, 4, 14)), {
            "titolo": f"Bando FNA Misura B2 - annualità {y - 1} - Ambito Cremasco", "anno_fna": y - 1,
            "dgr": f"DGR regionale di riparto FNA {y - 1} (riferimento dimostrativo)"})
        ctx.advance(call, "approva", udp, ctx.nwd(date(y, 5, 20)), {
            "delibera": f"Deliberazione dell'Assemblea dei Sindaci n. 4 del {ctx.nwd(date(y, 5, 20)):%d/%m/%Y}",
            "budget": budget, "misure": misure, "apertura": opens, "chiusura": closes, "giorni_esito": 90})
        if not ctx.advance(call, "apri", sistema, opens):
            return
        fates = allocate(FNA_FATES, ctx.n(BASE_FNA))
        rng.shuffle(fates)
        window_days = [d for d in (opens + timedelta(days=i) for i in range((closes - opens).days + 1))
                       if ctx.calendar.is_working_day(d)]
        apps = []
        for fate in fates:
            crng = random.Random(rng.getrandbits(64))
            # the last week gets the rush of late applications
            day = crng.choice(window_days if crng.random() < 0.65 else window_days[-5:])
            apps.append((day, fate, crng))
        apps.sort(key=lambda a: a[0])  # protocol numbers follow the presentation order
        sad_pool = [sp for sp in sad_people if sp[0]["data_nascita"] < date(y - 65, 1, 1)]
        applications = []
        for number, (day, fate, crng) in enumerate(apps, start=1):
            applications.append(self.fna_application(call.id, number, day, fate, crng, provisional, sad_pool))
        ctx.advance(call, "chiudi", sistema, closes + timedelta(days=1))
        # ---- rankings: immutable snapshots with each application's score breakdown, in funding order
        eligible = [a for a in applications if a["run"] and a.get("eligible_on") and a["eligible_on"] < provisional]
        eligible.sort(key=lambda a: (-a["score"], a["isee"], rk.protocol_key(a["protocollo"])))  # domain/casetypes/fna/ranking.py
        # the steps compute their positions from the applications (the same order as `eligible`)
        if not ctx.advance(call, "pubblica_graduatoria_provvisoria", udp, provisional, {
                "atto": f"Determinazione UdP n. {rng.randint(40, 60)}/{y}"}):
            return
        if not ctx.advance(call, "pubblica_graduatoria_definitiva", udp, final, {
                "atto": f"Determinazione UdP n. {rng.randint(61, 80)}/{y}"}):
            return
        residual = budget
        exhausted = False
        funded = []
        for a in eligible:
            if not a["run"].alive or a["run"].last > decided:
                continue
            if not exhausted and a["annual"] <= residual:
                if ctx.advance(a["run"], "finanzia", udp, decided, {"importo_annuo": a["annual"]}):
                    residual -= a["annual"]
                    funded.append(a)
            else:
                exhausted = True
                ctx.advance(a["run"], "non_finanzia", udp, decided)
        started = [self.fna_plan(a, decided) for a in funded]
        first_payment_start = min((s for s in started if s), default=None)
        if first_payment_start is not None:
            ctx.advance(call, "avvia_erogazioni", udp, first_payment_start)
        # ---- scorrimento: resources freed by lapses and withdrawals fund the next in the ranking
        scroll_on = ctx.nwd(add_months(month_start(decided), 2))
        freed = sum((a["annual"] for a in funded if a.get("freed_on") and a["freed_on"] < scroll_on), Decimal(0))
        residual += freed
        for a in eligible:
            if a in funded or not a["run"].alive or a["run"].last > scroll_on:
                continue
            if a["annual"] > residual:
                break
            if ctx.advance(a["run"], "finanzia", udp, scroll_on, {"importo_annuo": a["annual"]}):
                residual -= a["annual"]
                self.fna_plan(a, scroll_on)

    def fna_application(self, call_id: int, number: int, day: date, fate: str, rng: random.Random,
                        provisional: date, sad_pool: list) -> dict:
        ctx = self.ctx
        y = ctx.year
        if sad_pool and rng.random() < 0.15:
            person, comune = rng.choice(sad_pool)
        else:
            comune = ctx.pick_comune(rng)
            u = rng.random()
            person = (ctx.persona(rng, comune, 3, 16) if u < 0.05 else
                      ctx.persona(rng, comune, 19, 64) if u < 0.3 else ctx.persona(rng, comune, 66, 97))
        minor = person["data_nascita"] > date(y - 18, 12, 31)
        istat, sub = comune.istat, comune.sub_ambito
        csc = rng.choice(self.csc)
        worker = rng.choice(ctx.workers[sub])
        young_adult = not minor and person["data_nascita"] > date(y - 65, 1, 1)
        if minor:
            measure = "caregiver"
        elif young_adult:
            measure = rng.choices(("caregiver", "assistente_personale", "vita_indipendente"), weights=(6, 2, 2))[0]
        else:
            measure = rng.choices(("caregiver", "assistente_personale"), weights=(16, 1))[0]
        reject_reason = rng.choice(("isee", "requisito", "incompatibile")) if fate == "rejected" else None
        if minor and reject_reason == "isee":
            reject_reason = "requisito"
        if minor:
            isee = ctx.isee(rng, day, "minorenni", 4000, 36000)
        elif reject_reason == "isee":
            isee = ctx.isee(rng, day, "sociosanitario", 25500, 33000)
        else:
            isee = ctx.isee(rng, day, "sociosanitario", 1500, 24800)
        grave, accompagnamento = rng.choice(((True, True), (True, False), (False, True), (True, True)))
        if reject_reason == "requisito":
            grave = accompagnamento = False
        others = ["B1"] if reject_reason == "incompatibile" else (["SAD"] if rng.random() < 0.15 else [])
        protocollo = f"CSC-{y}-{number:05d}"
        data: dict[str, Any] = {
            "persona": person, "protocollo": protocollo, "isee": isee, "invalidita_104_art3c3": grave,
            "indennita_accompagnamento": accompagnamento, "misura": measure, "vive_solo": rng.random() < 0.25,
            "iban": ctx.iban(rng), "altre_misure": others}
        helper = helper_name(rng)
        if measure == "caregiver":
            data["caregiver"] = helper
        elif measure == "assistente_personale":
            data["assistente_personale"] = helper
        run = ctx.open("fna_domanda", csc, day, data, comune=istat, related=call_id)
        app: dict[str, Any] = {"run": run, "protocollo": protocollo, "isee": isee["valore"], "measure": measure,
                               "worker": worker, "istat": istat, "rng": rng}
        if run is None:
            return app
        cap = provisional - timedelta(days=1)
        evs: list[Ev] = []
        i = ctx.wd(day, rng.randint(1, 8), istat)
        evs.append(ctx.ev(i, "avvia_istruttoria", csc))
        t = i
        if fate in ("archived", "info_answered"):
            q = ctx.wd(i, rng.randint(1, 4), istat)
            evs.append(ctx.ev(q, "richiedi_integrazioni", csc,
                              {"documenti_mancanti": rng.sample(DOCUMENTI, rng.randint(1, 2))}))
            if fate == "archived":
                # fired by the deadline sweep the day after the reply term (as services.sweep does)
                x = ctx.calendar.add_calendar_days(q, 10, istat) + timedelta(days=1)
                evs.append(ctx.ev(x, "archivia", ctx.system_user, reason="Integrazioni non pervenute entro 10 giorni"))
                ctx.play(run, evs)
                return app
            t = ctx.nwd(q + timedelta(days=rng.randint(2, 9)))
            evs.append(ctx.ev(t, "ricevi_integrazioni", csc))
        if fate == "withdrawn":
            x = ctx.nwd(t + timedelta(days=rng.randint(3, 20)))
            evs.append(ctx.ev(x, "rinuncia", csc, {"dichiarazione_del": x}))
            ctx.play(run, evs)
            return app
        if fate == "rejected" and reject_reason in ("isee", "incompatibile"):
            notice = ctx.wd(t, rng.randint(2, 5))
        else:
            v = ctx.wd(t, rng.randint(1, 4), istat)
            evs.append(ctx.ev(v, "avvia_valutazione", csc))
            t = v
            notice = ctx.wd(v, rng.randint(3, 8))
        if fate in ("rejected", "accepted_after_notice"):
            reasons = {"isee": ["ISEE sociosanitario oltre la soglia del bando"],
                       "requisito": ["Assenti sia la disabilità grave sia l'indennità di accompagnamento"],
                       "incompatibile": ["Beneficiario della Misura B1, incompatibile con la B2"],
                       None: ["Certificazione della disabilità non allegata"]}[reject_reason]
            notice = min(max(notice, t), max(t, cap - timedelta(days=12)))
            evs.append(ctx.ev(notice, "preavviso_rigetto", self.udp[1], {"motivi": reasons, "comunicato_il": notice}))
            if fate == "rejected":
                if rng.random() < 0.3:
                    x = ctx.nwd(notice + timedelta(days=rng.randint(5, 9)))
                    rig = {"osservazioni_ricevute": True,
                           "esame_osservazioni": "Le osservazioni non superano i motivi ostativi"}
                else:
                    x = ctx.nwd(notice + timedelta(days=rng.randint(11, 20)))
                    rig = {"osservazioni_ricevute": False}
                evs.append(ctx.ev(x, "rigetta", self.udp[1], rig))
                ctx.play(run, evs)
                return app
            t = ctx.nwd(notice + timedelta(days=rng.randint(4, 9)))
            evs.append(ctx.ev(t, "accogli_osservazioni", self.udp[1],
                              reason="Prodotta la certificazione di disabilità grave"))
        e = max(t, min(ctx.nwd(t + timedelta(days=rng.randint(4, 20)), istat), ctx.pwd(cap, istat)))
        adl, iadl = rng.randint(1, 6), rng.randint(2, 8)
        if measure == "caregiver":
            amount = Decimal(min(400, 100 + 20 * adl + rng.choice((0, 0, 0, 50, 100))))
        else:
            amount = Decimal(rng.choice((400, 500, 600, 700, 800)))
        assessor = self.health if (grave and accompagnamento and rng.random() < 0.4) else worker
        evs.append(ctx.ev(e, "ammetti", assessor, {
            "adl": adl, "iadl": iadl, "misura_proposta": measure, "importo_mensile_proposto": amount}))
        ctx.play(run, evs)
        if run.alive and run.last == e:
            app["eligible_on"] = e
        detail = rk.breakdown(rk.Applicant(
            isee=Decimal(str(isee["valore"])), grave=bool(grave), accompagnamento=bool(accompagnamento),
            vive_solo=bool(data["vive_solo"]), nato_il=person["data_nascita"], adl=adl, iadl=iadl), y)
        app.update(score=sum(detail.values()), detail=detail, amount=amount, annual=amount * 12)
        return app

    def fna_plan(self, a: dict, funded_on: date) -> date | None:
        """Plan signed, disbursement, monthly payments, and the odd suspension, lapse or withdrawal."""
        ctx = self.ctx
        rng, run, istat = a["rng"], a["run"], a["istat"]
        csc = rng.choice(self.csc)
        if rng.random() < 0.03:
            x = ctx.nwd(funded_on + timedelta(days=rng.randint(3, 15)))
            if ctx.advance(run, "rinuncia", csc, x, {"dichiarazione_del": x}):
                a["freed_on"] = x
            return None
        signed = ctx.nwd(funded_on + timedelta(days=rng.randint(5, 25)), istat)
        start_month = next_month(signed)
        plan = {"misura": a["measure"], "importo_mensile": a["amount"], "mese_inizio": start_month,
                "obblighi": "Comunicare ricoveri, variazioni di residenza e dell'assistenza entro 15 giorni"}
        if a["measure"] == "assistente_personale":
            plan["contratto_assistente"] = True
        evs = [ctx.ev(signed, "firma_piano", a["worker"], plan)]
        go = ctx.wd(signed, rng.randint(1, 5), istat)
        evs.append(ctx.ev(go, "avvia_erogazione", csc))
        u = rng.random()
        lapse = ctx.nwd(go + timedelta(days=rng.randint(5, 50)), istat) if u < 0.07 else None
        susp = ctx.nwd(start_month + timedelta(days=rng.randint(5, 40)), istat) if 0.07 <= u < 0.15 else None
        resume = ctx.nwd(susp + timedelta(days=rng.randint(10, 40)), istat) if susp else None
        if susp:
            evs.append(ctx.ev(susp, "sospendi", a["worker"], reason="Ricovero di sollievo in RSA"))
            evs.append(ctx.ev(resume, "riprendi", a["worker"]))
        payments = 0
        for k in range(12):
            month = add_months(start_month, k)
            paid_on = ctx.nwd(month.replace(day=rng.randint(20, 27)))
            if lapse and paid_on >= lapse:
                break
            if susp and susp <= paid_on < resume + timedelta(days=1):
                continue
            payments += 1
            evs.append(ctx.ev(paid_on, "registra_pagamento", csc, {
                "mese": month, "importo": a["amount"],
                "contributi_inps_verificati": a["measure"] == "assistente_personale"}))
            last_paid = paid_on
        if lapse:
            evs.append(ctx.ev(lapse, "decadenza", a["worker"], {
                "causa": rng.choice(("decesso", "ricovero_definitivo", "trasferimento")), "dal": lapse}))
            if lapse <= ctx.today:
                a["freed_on"] = lapse
        elif payments == 12:  # a plan completed within the demo's dates
            end = last_paid + timedelta(days=5)
            evs.append(ctx.ev(end, "avvia_verifica", ctx.system_user))
            evs.append(ctx.ev(ctx.nwd(end + timedelta(days=rng.randint(3, 20))), "chiudi", a["worker"], {
                "mesi_erogati": payments, "importo_erogato": a["amount"] * payments, "piano_rispettato": True}))
        ctx.play(run, evs)
        return go if go <= ctx.today else None
