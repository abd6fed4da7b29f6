"""Bonus Famiglia's demo year: interview requests through the comuni's social services, sheets issued or
refused, regional applications and outcomes, instalments, the newborn's tessera sanitaria, monitoring and
closure, for pregnancies and adoptions. Pure: it drives its cases through the DemoContext.

Each case is scripted forward from its request; a step that would fall after the demo's day is not fired
(the context ends the run), so the cases opened late in the year are found in their early states."""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from domain.casetypes.bonus_famiglia.workflow import granted_amount, instalments
from domain.demo import DemoContext, DemoTally, allocate, generator
from domain.validation import sex_from_codice_fiscale
from domain.workflow import Role

BASE_FAMILIES = 40
FATES = (  # (how far the case goes, weight at scale 1)
    ("closed", 8), ("monitoring", 10), ("adoption", 4), ("not_admitted", 3), ("sheet_not_issued", 3),
    ("archived", 2), ("withdrawn", 2), ("open", 8),
)
VULNERABILITIES = ("economica", "abitativa", "lavorativa", "relazionale", "solitudine")
USES = ("beni_prima_infanzia", "spese_sanitarie", "utenze_affitto", "altro")
SENDERS = ("Consultorio familiare di Crema", "Centro di Aiuto alla Vita di Crema", None, None)


def _summary(tally: DemoTally) -> dict[str, Any]:
    cases = tally.cases.get("bonus_famiglia", {})
    return {"bonus_famiglia": {"cases": sum(cases.values()), "closed": cases.get("CLOSED", 0)}}


@generator(order=40, summary=_summary)
def demo(ctx: DemoContext) -> None:
    csc = ctx.users(Role.CSC_ADMIN)
    fates = allocate(FATES, ctx.n(BASE_FAMILIES))
    ctx.rng.shuffle(fates)
    for fate in fates:
        _family(ctx, fate, random.Random(ctx.rng.getrandbits(64)), csc)


def _mother(ctx: DemoContext, rng: random.Random, comune) -> dict:
    for _ in range(50):
        person = ctx.persona(rng, comune, 20, 44)
        if sex_from_codice_fiscale(person["codice_fiscale"]) == "F":
            return person
    return person


def _family(ctx: DemoContext, fate: str, rng: random.Random, csc: list[str]) -> None:
    comune = ctx.pick_comune(rng)
    istat, sub = comune.istat, comune.sub_ambito
    worker = rng.choice(ctx.workers[sub])
    adoption = fate == "adoption"
    children = 2 if rng.random() < 0.06 else 1
    span = max(1, (ctx.today - ctx.first_day).days - (200 if fate in ("closed", "monitoring", "adoption") else 20))
    asked = ctx.nwd(ctx.first_day + timedelta(days=rng.randint(0, span)), istat)
    person = ctx.persona(rng, comune, 28, 50) if adoption else _mother(ctx, rng, comune)
    due_birth = asked + timedelta(days=rng.randint(90, 180))
    data: dict[str, Any] = {
        "persona": person, "evento": "adozione" if adoption else "gravidanza", "figli": children,
        "richiesto_il": asked, "assegnatario": worker, "inviante": rng.choice(SENDERS),
    }
    if not adoption:
        data["data_presunta_parto"] = due_birth
    run = ctx.open("bonus_famiglia", rng.choice((worker, rng.choice(csc))), asked, data, comune=istat)
    if run is None or fate == "open" and rng.random() < 0.5:
        return
    met = ctx.wd(asked, rng.randint(2, 9), istat)
    if fate == "archived":
        ctx.advance(run, "archivia", worker, met, reason="la famiglia non si è presentata al colloquio")
        return
    if fate == "sheet_not_issued":
        ctx.advance(run, "nega_scheda", worker, met, {
            "colloquio_il": met, "motivo_mancato_rilascio": "condizioni di vulnerabilità non riscontrate"})
        return
    if not ctx.advance(run, "rilascia_scheda", worker, met, {
            "colloquio_il": met, "aree_vulnerabilita": rng.sample(VULNERABILITIES, rng.randint(1, 3)),
            "note_colloquio": "colloquio svolto con la famiglia; bisogni e risorse rilevati",
            "scheda_rilasciata_il": met}):
        return
    if fate == "open":
        return
    applied = ctx.wd(met, rng.randint(2, 15), istat)
    if fate == "withdrawn":
        ctx.advance(run, "rinuncia", worker, applied, {"dichiarazione_del": applied})
        return
    isee = ctx.isee(rng, applied, rng.choice(("ordinario", "corrente")), 3000, 21000)
    if not ctx.advance(run, "presenta_domanda", worker, applied, {
            "id_domanda_regionale": f"BF-{applied.year}-{rng.randint(10000, 99999)}", "presentata_il": applied,
            "isee": isee, "anni_residenza_richiedente": rng.randint(5, 30),
            "anni_residenza_altro_genitore": rng.choice((None, rng.randint(5, 30)))}):
        return
    outcome_on = ctx.wd(applied, rng.randint(10, 30))
    if fate == "not_admitted":
        ctx.advance(run, "non_ammette", rng.choice(csc), outcome_on, {"esito_comunicato_il": outcome_on},
                    reason="domanda non ammessa dalla Regione: risorse esaurite")
        return
    _paid(ctx, run, rng, csc, worker, istat, fate, adoption, children, outcome_on, due_birth)


def _paid(ctx: DemoContext, run, rng: random.Random, csc: list[str], worker: str, istat: str, fate: str,
          adoption: bool, children: int, outcome_on: date, due_birth: date) -> None:
    granted = granted_amount(children, ctx.policy_on(outcome_on))
    if not ctx.advance(run, "ammetti", rng.choice(csc), outcome_on,
                       {"esito_comunicato_il": outcome_on, "importo_concesso": granted}):
        return
    amounts = instalments(granted, not adoption)
    paid_on = ctx.wd(outcome_on, rng.randint(5, 20))
    if adoption:
        if not ctx.advance(run, "eroga_contributo", rng.choice(csc), paid_on,
                           {"pagato_il": paid_on, "importo": amounts[0]}):
            return
    else:
        if not ctx.advance(run, "eroga_prima_rata", rng.choice(csc), paid_on,
                           {"pagato_il": paid_on, "importo": amounts[0]}):
            return
        born = max(due_birth + timedelta(days=rng.randint(-10, 10)), paid_on)
        if not ctx.advance(run, "registra_nascita", worker, born, {"nato_il": born, "nati": children}):
            return
        card = born + timedelta(days=rng.randint(10, 80))
        if not ctx.advance(run, "presenta_tessera", worker, card, {"tessera_presentata_il": card}):
            return
        paid_on = ctx.wd(card, rng.randint(5, 20))
        if not ctx.advance(run, "eroga_seconda_rata", rng.choice(csc), paid_on,
                           {"pagato_il": paid_on, "importo": amounts[1]}):
            return
    sheet = paid_on
    for _ in range(rng.randint(1, 2)):
        sheet = sheet + timedelta(days=rng.randint(60, 88))
        if not ctx.advance(run, "registra_monitoraggio", worker, sheet, {
                "compilata_il": sheet, "situazione_nucleo": "nucleo seguito dal servizio, situazione stabile",
                "uso_contributo": rng.sample(USES, rng.randint(1, 2))}):
            return
    if fate in ("closed", "adoption"):
        close = sheet + timedelta(days=rng.randint(10, 40))
        ctx.advance(run, "chiudi", worker, close, {"relazione_finale": "obiettivi del sostegno raggiunti"})

