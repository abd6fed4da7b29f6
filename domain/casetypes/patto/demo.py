"""The Patto gener-attivo's demo year: referrals through assessment, signed pacts with monthly monitoring,
verification with an outcome, interruptions and withdrawals, and renewals of pacts closed partly. Pure."""
from __future__ import annotations

import random
import zlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.demo import (ComuneInfo, DemoContext, DemoTally, Ev, add_months, allocate, full_name, generator, money,
                         next_month)
from domain.demo_people import FEMALE_NAMES, MALE_NAMES
from domain.workflow import Role

PATTO_OBIETTIVI = {
    "inclusione": (
        ("Regolarizzare il pagamento delle utenze domestiche", "bollette pagate nei termini", "tutte le scadenze"),
        ("Partecipare al percorso di educazione finanziaria", "incontri frequentati", "almeno 6 incontri"),
        ("Riattivare la rete di relazioni del nucleo", "attività di gruppo frequentate", "2 al mese"),
        ("Garantire la frequenza scolastica dei figli minori", "assenze non giustificate", "meno di 5 al mese"),
        ("Rientrare dalla morosità del canone di locazione", "mensilità arretrate saldate", "tutte"),
        ("Curare l'accesso ai servizi sanitari del nucleo", "visite programmate effettuate", "100%"),
    ),
    "autonomia": (
        ("Completare un tirocinio di inclusione in azienda", "mesi di tirocinio svolti", "almeno 3"),
        ("Iscriversi al centro per l'impiego e sostenere colloqui", "colloqui sostenuti", "almeno 4"),
        ("Conseguire un attestato di formazione professionale", "attestato conseguito", "sì"),
        ("Ottenere un contratto di lavoro", "contratto firmato", "almeno 6 mesi"),
        ("Conseguire la patente di guida per la mobilità lavorativa", "patente conseguita", "sì"),
    ),
}
RECIPROCITA = (
    ("Supporto alla distribuzione di generi alimentari", "Banco di solidarietà di {c}"),
    ("Cura del verde pubblico", "Comune di {c}"),
    ("Accompagnamento di persone anziane", "Gruppo volontari di {c}"),
    ("Aiuto compiti in oratorio", "Oratorio di {c}"),
    ("Riordino e prestito in biblioteca", "Biblioteca comunale di {c}"),
    ("Pulizia di sentieri e argini", "Associazione ambientalista di {c}"),
    ("Supporto alla mensa solidale", "Mensa solidale di {c}"),
)
BISOGNI = (
    "perdita del lavoro e arretrati nelle utenze", "sfratto per morosità incolpevole in corso",
    "reddito insufficiente per un nucleo numeroso", "isolamento sociale dopo una separazione",
    "debiti accumulati e difficoltà a gestire il bilancio familiare", "disoccupazione di lunga durata",
)
RISORSE = (
    "buona motivazione e rete parentale disponibile", "competenze manuali e disponibilità al volontariato",
    "figli adulti di supporto", "esperienza lavorativa pregressa nella logistica",
    "buona conoscenza della lingua italiana e patente B", "legami con la parrocchia del paese",
)
AVANZAMENTO = (
    "impegni rispettati, buona partecipazione", "qualche assenza giustificata, andamento regolare",
    "progressi evidenti sugli obiettivi", "andamento discontinuo, concordato un rinforzo",
    "attività di reciprocità svolte con continuità", "rientro dalla morosità in corso",
)
PATTO_FATES = (  # (final state aimed at, weight at scale 1); the order is the priority at small scales
    ("closed", 52), ("active", 48), ("not_admitted", 9), ("drafting", 8), ("interrupted", 9), ("referred", 4),
    ("intake", 7), ("withdrawn", 5), ("archived", 6), ("suspended", 4), ("under_review", 5),
)

BASE_PATTI = 160


def _summary(tally: DemoTally) -> dict[str, Any]:
    patti = tally.cases.get("patto", {})
    concluded = patti.get("CLOSED", 0) + patti.get("INTERRUPTED", 0)
    positive = tally.outcomes.get("patto", {}).get("positivo", 0)
    return {"patti_realisation": {
        "positive": positive, "concluded": concluded,
        "share_of_concluded": round(positive / concluded, 3) if concluded else None,
        "share_of_closed": round(positive / patti["CLOSED"], 3) if patti.get("CLOSED") else None,
    }}


@generator(order=20, summary=_summary)
def demo(ctx: DemoContext) -> None:
    _PattoYear(ctx).patti()


class _PattoYear:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.csc = ctx.users(Role.CSC_ADMIN)

    def patti(self) -> None:
        ctx = self.ctx
        fates = allocate(PATTO_FATES, ctx.n(BASE_PATTI))
        ctx.rng.shuffle(fates)
        closed_partial: list[tuple[int, dict, ComuneInfo, date]] = []
        for fate in fates:
            rng = random.Random(ctx.rng.getrandbits(64))
            self.patto(fate, rng, closed_partial)
        for case_id, person, comune, closed_on in closed_partial[: ctx.n(5)]:  # renewals: new linked cases
            rng = random.Random(ctx.rng.getrandbits(64))
            self.patto(rng.choice(("referred", "intake", "drafting")), rng, None,
                       renewal=(case_id, person, comune, closed_on))

    def patto(self, fate: str, rng: random.Random, closed_partial: list | None,
              renewal: tuple[int, dict, ComuneInfo, date] | None = None) -> None:
        ctx = self.ctx
        if renewal:
            _, person, comune, _ = renewal
        else:
            comune = ctx.pick_comune(rng)
            person = ctx.persona(rng, comune, 19, 64)
        istat, sub = comune.istat, comune.sub_ambito
        worker, coord = rng.choice(ctx.workers[sub]), ctx.coordinators[sub]
        opener = worker if rng.random() < 0.75 else rng.choice(self.csc)
        kind = "autonomia" if rng.random() < 0.4 else "inclusione"
        durations = {"closed": (2, 3, 3, 4, 4, 6, 6), "under_review": (2, 3, 4, 6),
                     "active": (3, 4, 6, 6, 9, 12, 12)}.get(fate, (6, 9, 12))
        p = {
            "assign": rng.randint(1, 9) if rng.random() < 0.9 else rng.randint(11, 14),
            "archive": rng.randint(3, 15), "at_referral": rng.random() < 0.5,
            "decide": rng.randint(4, 13), "sign": rng.randint(5, 18), "start": rng.randint(0, 6),
            "duration": rng.choice(durations), "end_after": rng.randint(35, 160),
            "susp": fate == "suspended" or (fate in ("active", "closed", "interrupted") and rng.random() < 0.14),
            "susp_at": rng.randint(30, 90), "susp_len": rng.randint(12, 55), "close_after": rng.randint(4, 26),
            "gaps": [rng.randint(24, 31) if rng.random() < 0.87 else rng.randint(33, 44) for _ in range(16)],
            "withdraw_drafting": rng.random() < 0.4, "from_susp": rng.random() < 0.35,
        }

        def plan(r: date, duration: int | None = None) -> dict:
            duration = duration or p["duration"]
            m: dict[str, Any] = {"r": r, "a": ctx.wd(r, p["assign"], istat)}
            if fate == "archived":
                m["end"] = ctx.wd(r if p["at_referral"] else m["a"], p["archive"], istat)
                return m
            m["d"] = d = ctx.wd(m["a"], p["decide"], istat)
            if fate == "not_admitted":
                m["end"] = d
                return m
            m["s"] = s = ctx.wd(d, p["sign"], istat)
            if fate == "withdrawn" and p["withdraw_drafting"]:
                m["end"] = ctx.wd(d, max(1, p["sign"] // 2), istat)
                return m
            start = s + timedelta(days=p["start"])
            if start.day > 28:
                start = next_month(start)
            m["inizio"], m["fine"] = start, add_months(start, duration)
            fine = m["fine"]
            if fate in ("interrupted", "withdrawn"):
                m["end"] = ctx.pwd(min(s + timedelta(days=p["end_after"]), fine - timedelta(days=3)), istat)
            if p["susp"]:
                limit = m.get("end", fine)
                sp = ctx.nwd(s + timedelta(days=min(p["susp_at"], max(10, (limit - s).days - 30))), istat)
                rs = ctx.nwd(sp + timedelta(days=p["susp_len"]), istat)
                if fate == "interrupted" and p["from_susp"]:
                    sp, rs = ctx.pwd(limit - timedelta(days=min(p["susp_len"], 25)), istat), None
                elif rs >= limit - timedelta(days=5):
                    rs = ctx.pwd(limit - timedelta(days=6), istat)
                if sp <= s or (rs is not None and rs <= sp):
                    sp = rs = None
                m["sp"], m["rs"] = sp, rs
            if fate in ("closed", "under_review"):
                m["end"] = fine
                m["close"] = ctx.nwd(fine + timedelta(days=p["close_after"]), istat)
            return m

        windows = {"referred": ("r", "a"), "intake": ("a", "d"), "drafting": ("d", "s"), "active": ("s", "fine"),
                   "suspended": ("sp", "rs"), "under_review": ("fine", "close")}
        if renewal:
            earliest = renewal[3] + timedelta(days=rng.randint(10, 30))
            if earliest > ctx.today:
                return
            marks = ctx.place(plan, windows[fate], None, rng, earliest=earliest)
        elif fate in windows:
            if fate == "active" and p["susp"]:
                windows["active"] = ("rs", "fine")
            marks = ctx.place(plan, windows[fate], None, rng)
        else:
            key = "close" if fate == "closed" else "end"
            duration = p["duration"]
            while duration > 1 and plan(ctx.first_day, duration)[key] > ctx.today:
                duration -= 1
            p["duration"] = duration
            marks = ctx.place(plan, None, key, rng)
        r = marks["r"]
        data = {"persona": person, "fonte": rng.choice(("spontanea", "caritas", "comune", "centro_impiego",
                                                         "terzo_settore")),
                "bisogno": rng.choice(("economico", "abitativo", "lavorativo", "utenze", "relazionale"))}
        if renewal:
            data["patto_precedente"] = renewal[0]
            data["note"] = "Rinnovo dopo verifica con esito parziale"
        run = ctx.open("patto", opener, r, data, comune=istat)
        if run is None:
            return
        evs: list[Ev] = []
        a = marks["a"]
        if fate == "archived" and p["at_referral"]:
            evs.append(ctx.ev(marks["end"], "archivia", worker, reason=rng.choice((
                "Persona non più reperibile", "Bisogno preso in carico da altro servizio"))))
            ctx.play(run, evs)
            return
        evs.append(ctx.ev(a, "assegna", coord, {"assegnatario": worker,
                                                "primo_colloquio_il": max(r, a - timedelta(days=rng.randint(0, 2)))}))
        if fate == "archived":
            evs.append(ctx.ev(marks["end"], "archivia", worker, reason=rng.choice((
                "La persona non si è presentata ai colloqui", "Trasferimento prima dell'analisi"))))
            ctx.play(run, evs)
            return
        d = marks["d"]
        if fate == "not_admitted":
            need = rng.choices(("isee", "residenza", "altro"), weights=(7, 2, 1))[0]
            evs.append(ctx.ev(d, "non_ammette", coord, {"requisito_mancante": need, "comunicata_il": d},
                              reason={"isee": "ISEE oltre la soglia locale", "residenza": "Residenza fuori ambito",
                                      "altro": "Beneficiario di altra misura equivalente"}[need]))
            ctx.play(run, evs)
            return
        evs.append(ctx.ev(d, "avvia_redazione", worker, {
            "tipologia": kind, "bisogni": rng.choice(BISOGNI), "risorse": rng.choice(RISORSE),
            "componenti_nucleo": rng.randint(1, 6), "isee": ctx.isee(rng, d, "ordinario", 0, 9300)}))
        if fate == "withdrawn" and p["withdraw_drafting"]:
            evs.append(ctx.ev(marks["end"], "rinuncia", worker, {"dichiarazione_del": marks["end"]}))
            ctx.play(run, evs)
            return
        s, inizio, fine = marks["s"], marks["inizio"], marks["fine"]
        months = max(1, (fine.year - inizio.year) * 12 + fine.month - inizio.month)
        goals = rng.sample(PATTO_OBIETTIVI[kind], rng.randint(1, 3))
        hosts = rng.sample(RECIPROCITA, rng.randint(1, 2))
        weekly = [Decimal(rng.choice((2, 3, 4, 4, 6, 8))) for _ in hosts]
        if rng.random() < 0.75:
            misura = {"tipo": "mensile", "mensilita": months,
                      "importo": money(min(rng.choice((150, 200, 250, 300, 350, 400, 450, 500, 600)),
                                            6000 // months))}
        else:
            misura = {"tipo": "una_tantum", "mensilita": 1,
                      "importo": money(rng.choice((400, 600, 800, 1200, 1500, 2000, 2500, 3500, 4500)))}
        misura["voci"] = sorted(rng.sample(("sostegno_reddito", "utenze", "affitto"), rng.randint(1, 2)))
        total = misura["importo"] * (misura["mensilita"] if misura["tipo"] == "mensile" else 1)
        signers = [full_name(person)]
        if rng.random() < 0.3:
            signers.append(f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {person['cognome']}")
        weights = [rng.choice((1, 1, 1, 2)) for _ in goals]
        evs.append(ctx.ev(s, "attiva", coord if total > 3000 else worker, {
            "obiettivi": [{"descrizione": g[0], "indicatore": g[1], "target": g[2], "peso": Decimal(w)}
                          for g, w in zip(goals, weights)],
            "impegni_reciprocita": [{"attivita": h[0], "ente_ospitante": h[1].format(c=comune.nome),
                                     "ore_settimanali": w} for h, w in zip(hosts, weekly)],
            "misura_economica": misura, "data_inizio": inizio, "data_fine": fine, "firmato_il": s,
            "firmatari": signers, "firma_assistente_sociale": True, "informativa_privacy": True,
            # about a third are "further" pacts (PdZ: 100 in the project + 50-75 more), chosen without
            # drawing from rng so that the rest of the generated year stays as it was
            "canale": "ulteriore" if zlib.crc32(person["codice_fiscale"].encode()) % 3 == 0 else "progetto"}))
        sp, rs = marks.get("sp"), marks.get("rs")
        stop = marks.get("end") if fate in ("interrupted", "withdrawn") else fine
        if sp:
            evs.append(ctx.ev(sp, "sospendi", worker, reason=rng.choice((
                "Ricovero ospedaliero del beneficiario", "Assenza prolungata per motivi familiari",
                "Mancata partecipazione: sospensione in attesa di chiarimento"))))
            if rs:
                evs.append(ctx.ev(rs, "riprendi", worker))
        t, paid, k = s, 0, 0
        while True:
            t = ctx.nwd(t + timedelta(days=p["gaps"][k % len(p["gaps"])]), istat)
            k += 1
            if sp and sp <= t and (rs is None or t < rs + timedelta(days=3)):
                if rs is None:
                    break
                t = ctx.nwd(rs + timedelta(days=rng.randint(3, 10)), istat)
            if t >= stop or t > ctx.today:
                break
            if misura["tipo"] == "mensile":
                amount = misura["importo"] if paid < misura["mensilita"] else Decimal(0)
            else:
                amount = misura["importo"] if paid == 0 else Decimal(0)
            paid += 1
            hours = money(sum(weekly) * 4 * Decimal(str(rng.uniform(0.5, 1.1)))).quantize(Decimal("0.5"))
            evs.append(ctx.ev(t, "registra_monitoraggio", worker, {
                "incontro_il": t, "ore_reciprocita": hours, "avanzamento": rng.choice(AVANZAMENTO),
                "importo_erogato": amount}))
        if fate == "interrupted":
            x = marks["end"]
            cause = rng.choices(("inadempienza", "trasferimento", "decesso", "altro"), weights=(6, 2, 1, 1))[0]
            interr: dict[str, Any] = {"causa": cause}
            if cause == "inadempienza":
                interr["diffida_del"] = max(s, ctx.pwd(x - timedelta(days=rng.randint(15, 30)), istat))
            evs.append(ctx.ev(x, "interrompi", coord, interr, reason={
                "inadempienza": "Impegni di reciprocità non rispettati dopo la diffida scritta",
                "trasferimento": "Trasferimento di residenza fuori ambito", "decesso": "Decesso del beneficiario",
                "altro": "Inserimento in comunità terapeutica"}[cause]))
        elif fate == "withdrawn":
            x = marks["end"]
            evs.append(ctx.ev(x, "rinuncia", worker, {"dichiarazione_del": x}))
        elif fine <= ctx.today:
            evs.append(ctx.ev(fine, "avvia_verifica", ctx.system_user))
            closing = marks.get("close") or ctx.nwd(fine + timedelta(days=p["close_after"]), istat)
            u = rng.random()
            # about 86% positive among the closed, so ~70% of the concluded (closed + interrupted)
            target = (rng.uniform(0.75, 1.0) if u < 0.86 else rng.uniform(0.35, 0.65) if u < 0.96
                      else rng.uniform(0, 0.25))
            step = Decimal("0.05")
            shares = [min(Decimal(1), max(Decimal(0), (Decimal(str(target + rng.uniform(-0.15, 0.15))) / step)
                                          .quantize(Decimal(1)) * step)) for _ in goals]
            flat = (Decimal(str(target)) / step).quantize(Decimal(1)) * step
            if _band(_rate(shares, weights)) != _band(target) or (len(set(shares)) > 1 and rng.random() < 0.3):
                shares = [flat] * len(goals)
            verifica: dict[str, Any] = {"raggiungimento": shares, "relazione": rng.choice((
                "Obiettivi verificati con il beneficiario e l'ente ospitante",
                "Verifica condotta in équipe con il centro per l'impiego",
                "Relazione finale condivisa con il nucleo"))}
            if _band(float(flat)) == "parziale" and shares == [flat] * len(goals) and rng.random() < 0.15:
                verifica["esito"] = "positivo"
                verifica["motivo_esito"] = "Obiettivo principale pienamente raggiunto, gli altri superati dagli eventi"
            evs.append(ctx.ev(closing, "chiudi", worker, verifica))
            if (closed_partial is not None and closing <= ctx.today and "esito" not in verifica
                    and _band(float(flat)) == "parziale" and shares == [flat] * len(goals)):
                closed_partial.append((run.id, person, comune, closing))
        ctx.play(run, evs)


def _rate(shares: list[Decimal], weights: list[int]) -> float:
    return float(sum(Decimal(w) * s for w, s in zip(weights, shares)) / sum(weights))


def _band(rate: float) -> str:
    return "positivo" if rate >= 0.70 else "parziale" if rate >= 0.30 else "negativo"

