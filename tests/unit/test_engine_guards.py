"""Every guard of every declaration refuses with its Italian reason, and is proved to be the one refusing.

Each `Refusal` changes the valid scenario of a transition just enough to break one guard. The test
checks the reason text, then removes that guard from a copy of the declaration and checks the reason
disappears: the refusal is the guard's own, not a neighbour's. A meta-test keeps the registry and
the declarations in step: a new guard without a refusal test fails it.
"""
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import GuardRefused
from domain.registry import all_workflows, get_workflow
from domain.workflow import Role, Workflow
from tests.unit.fakes import (
    CASE_ID,
    AGNADELLO,
    CREMA,
    FINAL_CALL_ID,
    MINOR,
    NOW,
    OPEN_CALL_ID,
    OUTSIDE,
    VISIT,
    ROME,
    actor,
    case_data,
    case_in,
    fire,
    isee,
)

R = Role


@dataclass(frozen=True)
class Refusal:
    case_type: str
    transition: str
    guard: str  # the Guard's description in the declaration
    expect: str  # the Italian reason (or a distinctive part of it)
    how: str  # what the scenario breaks, for the test id
    kwargs: dict[str, Any] = field(default_factory=dict)  # passed to fakes.fire
    bug: str | None = None  # a known defect: the test is a strict xfail with this reason


def _refusal(case_type, transition, guard, expect, how, bug=None, **kwargs) -> Refusal:
    return Refusal(case_type, transition, guard, expect, how, kwargs, bug)




ASSIGNEE = "assegnatario: assistente sociale del sub-ambito del caso"
ACCREDITED = "ente accreditato, attivo e che serve il comune"
CHOSEN = "ente: solo quello scelto dal beneficiario"
PREVIOUS = "il patto precedente è un patto che l'utente può consultare"
FUTURE = "2026-11-21"  # the day after NOW

REAL = "nessuna misura incompatibile tra i casi della persona in Legami"


def _recorded_measure(misura: str, state: str = "ACTIVE"):
    """A measure of another body recorded in Legami for the case's person (domain/casetypes/misura_esterna)."""
    return lambda w: w.cases.__setitem__(4250, case_in("misura_esterna", state, id=4250, data={"misura": misura}))


REFUSALS = [
    # --- the person's real cases (DOMAIN.md §13) ------------------------------------------------
    _refusal("fna_domanda", "ammetti", REAL, "misura incompatibile in corso per la persona: Misura B1",
             "una Misura B1 in Legami che la domanda non dichiara", setup=_recorded_measure("B1")),
    # --- patto ---------------------------------------------------------------------------------
    _refusal("patto", "segnala", PREVIOUS, "«Patto precedente (rinnovo)»: il caso 4242 non esiste",
             "patto precedente inesistente", patch={"patto_precedente": 4242}),
    _refusal("patto", "segnala", PREVIOUS, "«Patto precedente (rinnovo)»: il caso 4243 non esiste",
             "patto precedente di un altro sub-ambito", patch={"patto_precedente": 4243},
             setup=lambda w: w.cases.__setitem__(4243, case_in("patto", "ACTIVE", id=4243, comune_istat=AGNADELLO,
                                                                owner="as.pandino"))),
    _refusal("patto", "assegna", ASSIGNEE, "l'utente «as.nessuno» non esiste", "utente inesistente",
             patch={"assegnatario": "as.nessuno"}),
    _refusal("patto", "assegna", ASSIGNEE, "«csc.neri» non è un assistente sociale", "non assistente sociale",
             patch={"assegnatario": "csc.neri"}),
    _refusal("patto", "assegna", ASSIGNEE, "«as.pandino» non opera nel sub-ambito Crema", "altro sub-ambito",
             patch={"assegnatario": "as.pandino"}),
    _refusal("patto", "assegna", "Data del primo colloquio non successiva alla data del passo",
             "«Data del primo colloquio» (21/11/2026) è successiva alla data del passo", "colloquio futuro",
             patch={"primo_colloquio_il": FUTURE}),
    _refusal("patto", "non_ammette", "Data di comunicazione non successiva alla data del passo",
             "«Data di comunicazione» (21/11/2026) è successiva alla data del passo", "comunicazione futura",
             patch={"comunicata_il": FUTURE}),
    _refusal("patto", "avvia_redazione", "ISEE entro la soglia locale",
             "ISEE di € 9.360,01 oltre la soglia locale di € 9.360,00", "ISEE oltre 9.360",
             patch={"isee": isee("ordinario", "9360.01")}),
    _refusal("patto", "avvia_redazione", "ISEE in corso di validità",
             "l'attestazione ISEE è scaduta il 31/12/2025: serve una DSU rinnovata", "ISEE scaduto",
             patch={"isee": isee("ordinario", "8000.00", dsu="2025-03-10")}),
    _refusal("patto", "attiva", "importo entro il tetto del patto",
             "importo complessivo € 7.000,00 oltre il tetto del patto (€ 6.000,00)", "oltre il tetto",
             patch={"misura_economica": {"importo": "700.00"}}, role=R.SUBAREA_COORDINATOR),
    _refusal("patto", "attiva", "oltre la soglia approva il coordinatore",
             "importo € 3.500,00 oltre € 3.000,00: serve l'approvazione del coordinatore di sub-ambito",
             "assistente sociale oltre la soglia", patch={"misura_economica": {"importo": "350.00"}},
             role=R.SOCIAL_WORKER),
    _refusal("patto", "attiva", "durata entro i limiti", "la durata del patto deve essere tra 1 e 12 mesi",
             "oltre 12 mesi", patch={"data_inizio": "2025-10-01", "data_fine": "2026-10-31"}),
    _refusal("patto", "attiva", "durata entro i limiti", "la durata del patto deve essere tra 1 e 12 mesi",
             "meno di un mese", patch={"data_inizio": "2026-10-10", "data_fine": "2026-10-31"}),
    _refusal("patto", "attiva", "Data di firma non successiva alla data del passo",
             "«Data di firma» (21/11/2026) è successiva alla data del passo", "firma futura",
             patch={"firmato_il": FUTURE}),
    _refusal("patto", "registra_monitoraggio", "Data dell'incontro non successiva alla data del passo",
             "«Data dell'incontro» (21/11/2026) è successiva alla data del passo", "incontro futuro",
             patch={"incontro_il": FUTURE}),
    _refusal("patto", "avvia_verifica", "non prima della data di fine",
             "il patto termina il 31/12/2026: la verifica non può iniziare prima", "prima della fine",
             case_patch={"data_fine": "2026-12-31"}),
    _refusal("patto", "chiudi", "un grado di raggiungimento per obiettivo",
             "indicare il raggiungimento di ciascuno dei 2 obiettivi del patto", "un solo grado per due obiettivi",
             patch={"raggiungimento": ["1"]}),
    # --- FNA call -----------------------------------------------------------------------------
    _refusal("fna_bando", "apri", "non prima dell'apertura", "i termini si aprono il 01/12/2026",
             "prima dell'apertura", case_patch={"apertura": "2026-12-01", "chiusura": "2026-12-31"}),
    _refusal("fna_bando", "chiudi", "solo dopo l'ultimo giorno utile", "i termini chiudono il 20/11/2026",
             "nell'ultimo giorno utile", case_patch={"chiusura": "2026-11-20"}),
    # --- FNA application ------------------------------------------------------------------------
    _refusal("fna_domanda", "presenta", "bando aperto e domanda nei termini", "il bando non è aperto",
             "bando chiuso", setup=lambda w: w.set_case_state(OPEN_CALL_ID, "CLOSED")),
    _refusal("fna_domanda", "presenta", "bando aperto e domanda nei termini",
             "domanda fuori dai termini del bando (02/11/2026–30/11/2026)", "prima dell'apertura dei termini",
             at=datetime(2026, 11, 1, 18, 0, tzinfo=ROME)),
    _refusal("fna_domanda", "presenta", "bando aperto e domanda nei termini",
             "domanda fuori dai termini del bando (02/11/2026–19/11/2026)", "dopo la chiusura dei termini",
             setup=lambda w: w.set_case_data(OPEN_CALL_ID, chiusura="2026-11-19")),
    _refusal("fna_domanda", "presenta", "bando aperto e domanda nei termini", "indicare un bando FNA esistente",
             "bando inesistente", related_case_id=999),
    _refusal("fna_domanda", "presenta", "misura prevista dal bando",
             "il bando non prevede la misura «voucher_minori»", "misura non prevista",
             patch={"misura": "voucher_minori"}),
    _refusal("fna_domanda", "ammetti", "disabilità grave o accompagnamento",
             "manca il requisito: disabilità grave (L. 104/92 art. 3 c. 3) o indennità di accompagnamento",
             "senza requisito di disabilità",
             case_patch={"invalidita_104_art3c3": False, "indennita_accompagnamento": False}),
    _refusal("fna_domanda", "ammetti", "ISEE entro la soglia del bando",
             "ISEE di € 25.000,01 oltre la soglia del bando (€ 25.000,00)", "adulto oltre 25.000",
             case_patch={"isee": isee("sociosanitario", "25000.01")}),
    _refusal("fna_domanda", "ammetti", "ISEE entro la soglia del bando", "serve un ISEE sociosanitario",
             "adulto con ISEE ordinario", case_patch={"isee": isee("ordinario", "9000.00")}),
    _refusal("fna_domanda", "ammetti", "ISEE entro la soglia del bando",
             "ISEE di € 40.000,01 oltre la soglia del bando (€ 40.000,00)", "minore oltre 40.000",
             case_patch={"isee": isee("ordinario", "40000.01")}, case_fields={"person": MINOR}),
    _refusal("fna_domanda", "ammetti", "ISEE entro la soglia del bando", "serve un ISEE minorenni",
             "minore con ISEE sociosanitario", case_patch={"isee": isee("sociosanitario", "9000.00")},
             case_fields={"person": MINOR}),
    _refusal("fna_domanda", "ammetti", "ISEE in corso di validità",
             "l'attestazione ISEE è scaduta il 31/12/2025", "ISEE scaduto",
             case_patch={"isee": isee("sociosanitario", "18000.00", dsu="2025-02-01")}),
    _refusal("fna_domanda", "ammetti", "nessuna misura incompatibile", "misura incompatibile in corso: B1",
             "Misura B1 in corso", case_patch={"altre_misure": ["ADI", "B1"]}),
    _refusal("fna_domanda", "ammetti", "nessuna misura incompatibile", "misura incompatibile in corso: rsa aperta",
             "RSA aperta, scritta in minuscolo", case_patch={"altre_misure": ["rsa aperta"]}),
    _refusal("fna_domanda", "ammetti", "misura prevista dal bando",
             "il bando non prevede la misura «voucher_minori»", "misura proposta non prevista",
             patch={"misura_proposta": "voucher_minori"}),
    _refusal("fna_domanda", "ammetti", "importo entro il range della misura del bando",
             "importo mensile € 450,00 fuori dal range della misura (€ 100,00–€ 400,00)", "sopra il massimo",
             patch={"importo_mensile_proposto": "450.00"}),
    _refusal("fna_domanda", "ammetti", "importo entro il range della misura del bando",
             "importo mensile € 50,00 fuori dal range della misura (€ 100,00–€ 400,00)", "sotto il minimo",
             patch={"importo_mensile_proposto": "50.00"}),
    _refusal("fna_domanda", "rigetta", "decorsi i 10 giorni o esaminate le osservazioni",
             "i 10 giorni per le osservazioni (art. 10-bis L. 241/90) scadono il 20/11/2026", "decimo giorno",
             case_patch={"comunicato_il": "2026-11-10"}),
    _refusal("fna_domanda", "finanzia", "graduatoria definitiva approvata",
             "la graduatoria definitiva del bando non è ancora approvata", "graduatoria provvisoria",
             setup=lambda w: w.set_case_state(FINAL_CALL_ID, "RANKING_PROVISIONAL")),
    _refusal("fna_domanda", "finanzia", "budget residuo sufficiente",
             "budget del bando insufficiente: residuo € 2.000,00", "budget esaurito",
             setup=lambda w: w.committed.update({FINAL_CALL_ID: Decimal("98000.00")})),
    _refusal("fna_domanda", "finanzia", "nell'ordine della graduatoria",
             "la graduatoria va seguita: la domanda 2026/0001 (posizione 1) la precede", "salta la graduatoria",
             setup=lambda w: _another_application(w, "ELIGIBLE")),
    _refusal("fna_domanda", "non_finanzia", "graduatoria definitiva approvata",
             "la graduatoria definitiva del bando non è ancora approvata", "graduatoria provvisoria",
             setup=lambda w: w.set_case_state(FINAL_CALL_ID, "RANKING_PROVISIONAL")),
    _refusal("fna_domanda", "firma_piano", "importo entro il range della misura del bando",
             "importo mensile € 900,00 fuori dal range della misura (€ 100,00–€ 800,00)", "sopra il massimo",
             patch={"misura": "vita_indipendente", "importo_mensile": "900.00"}),
    _refusal("fna_domanda", "firma_piano", "misura prevista dal bando",
             "il bando non prevede la misura «voucher_minori»", "misura non prevista",
             patch={"misura": "voucher_minori"}),
    _refusal("fna_domanda", "registra_pagamento", "Mese di competenza non successiva alla data del passo",
             "«Mese di competenza» (01/12/2026) è successiva alla data del passo", "mese futuro",
             patch={"mese": "2026-12-01"}),
    _refusal("fna_domanda", "aggiorna_isee", "DSU più recente di quella in archivio",
             "la nuova DSU deve essere successiva a quella in archivio (15/01/2026)", "DSU vecchia",
             patch={"isee": isee("sociosanitario", "17000.00", dsu="2026-01-10")}),
    _refusal("fna_domanda", "aggiorna_isee", "ISEE in corso di validità",
             "l'attestazione ISEE è scaduta il 31/12/2025", "rinnovo già scaduto",
             case_patch={"isee": isee("sociosanitario", "7000.00", dsu="2025-01-10")},
             patch={"isee": isee("sociosanitario", "7500.00", dsu="2025-06-01")}),
    _refusal("fna_domanda", "aggiorna_isee", "ISEE entro la soglia del bando",
             "ISEE di € 30.000,00 oltre la soglia del bando (€ 25.000,00)", "rinnovo oltre soglia",
             patch={"isee": isee("sociosanitario", "30000.00", dsu="2026-11-18")}),
    _refusal("patto", "aggiorna_isee", "DSU più recente di quella in archivio",
             "la nuova DSU deve essere successiva a quella in archivio (15/01/2026)", "DSU vecchia",
             patch={"isee": isee("ordinario", "7500.00", dsu="2026-01-15")}),
    _refusal("patto", "aggiorna_isee", "ISEE in corso di validità",
             "l'attestazione ISEE è scaduta il 31/12/2025", "rinnovo già scaduto",
             case_patch={"isee": isee("ordinario", "7000.00", dsu="2025-01-10")},
             patch={"isee": isee("ordinario", "7500.00", dsu="2025-06-01")}),
    _refusal("fna_domanda", "registra_pagamento", "contributi INPS per l'assistente personale",
             "per l'assistente personale vanno verificati i contributi INPS del periodo", "contributi non verificati",
             case_patch={"misura": "assistente_personale"}),
    # --- SAD adhesion -------------------------------------------------------------------------
    _refusal("sad_adesione", "invita", "ente del distretto", "l'ente «ENTE99» non è tra gli enti del distretto",
             "ente sconosciuto", patch={"ente": "ENTE99"}),
    _refusal("sad_adesione", "firma", "comuni dell'ambito", f"comuni non appartenenti all'ambito: {OUTSIDE}",
             "comune fuori ambito", patch={"comuni": [CREMA, OUTSIDE]}),
    _refusal("sad_adesione", "firma", "Data di firma non successiva alla data del passo",
             "«Data di firma» (21/11/2026) è successiva alla data del passo", "firma futura",
             patch={"firmato_il": FUTURE}),
    # --- SAD case -------------------------------------------------------------------------------
    _refusal("sad_caso", "valuta", "Data della visita non successiva alla data del passo",
             "«Data della visita» (21/11/2026) è successiva alla data del passo", "visita futura",
             patch={"visita_domiciliare_il": FUTURE}),
    _refusal("sad_caso", "scegli_ente", ACCREDITED, "l'ente «ENTE99» non è tra gli enti del distretto",
             "ente sconosciuto", patch={"ente": "ENTE99"}),
    _refusal("sad_caso", "scegli_ente", ACCREDITED,
             "l'ente «Cooperativa Sociale Il Girasole» non è accreditato e attivo per il SAD", "ente sospeso",
             setup=lambda w: w.set_provider_state("ENTE01", "SUSPENDED")),
    _refusal("sad_caso", "scegli_ente", ACCREDITED,
             "l'ente «Cooperativa Sociale Il Girasole» non è accreditato e attivo per il SAD", "ente mai invitato",
             setup=lambda w: w.set_provider_state("ENTE01", None)),
    _refusal("sad_caso", "scegli_ente", ACCREDITED,
             "l'ente «Cooperativa Sociale Casa dei Tigli» non serve il comune del beneficiario",
             "ente che non serve Agnadello", patch={"ente": "ENTE08"}, case_fields={"comune_istat": AGNADELLO}),
    _refusal("sad_caso", "emetti_voucher", "tariffa entro la massima", "tariffa € 23,51 oltre la massima di € 23,50",
             "tariffa oltre 23,50", patch={"tariffa_oraria": "23.51"}),
    _refusal("sad_caso", "prima_visita", CHOSEN, "l'ente non è quello scelto dal beneficiario", "altro ente",
             by=actor(R.PROVIDER, provider_codice="ENTE02")),
    _refusal("sad_caso", "registra_visite", CHOSEN, "l'ente non è quello scelto dal beneficiario", "altro ente",
             by=actor(R.PROVIDER, provider_codice="ENTE02")),
    _refusal("sad_caso", "prima_visita", "visite non future", "visite successive alla data del passo: 21/11/2026",
             "visita futura", patch={"visita": {**VISIT, "data": FUTURE}}),
    _refusal("sad_caso", "registra_visite", "visite non future", "visite successive alla data del passo: 21/11/2026",
             "visita futura", patch={"visite": [VISIT, {**VISIT, "data": FUTURE}]}),
    _refusal("sad_caso", "cambia_ente", ACCREDITED,
             "l'ente «Cooperativa Sociale Ponte Azzurro» non è accreditato e attivo per il SAD", "nuovo ente revocato",
             setup=lambda w: w.set_provider_state("ENTE02", "REVOKED")),
    _refusal("sad_caso", "cambia_ente", "ente diverso dall'attuale", "il nuovo ente coincide con l'attuale",
             "stesso ente", patch={"ente": "ENTE01"}),
    _refusal("sad_caso", "sospendi", CHOSEN, "l'ente non è quello scelto dal beneficiario", "altro ente",
             by=actor(R.PROVIDER, provider_codice="ENTE02")),
    _refusal("sad_caso", "chiudi", "obiettivi raggiunti non oltre quelli del PAI", "il PAI ha 2 obiettivi",
             "più obiettivi di quelli del PAI", patch={"obiettivi_raggiunti": 3}),
]


def without_guard(wf: Workflow, transition: str, description: str) -> Workflow:
    transitions = tuple(
        replace(t, guards=tuple(g for g in t.guards if g.description != description)) if t.name == transition else t
        for t in wf.transitions
    )
    return replace(wf, transitions=transitions)


def _reasons(refusal: Refusal, wf: Workflow | None = None) -> list[str]:
    try:
        fire(refusal.case_type, refusal.transition, wf=wf, **refusal.kwargs)
    except GuardRefused as refused:
        return refused.reasons
    return []


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(r, id=f"{r.case_type}-{r.transition}-{r.how}",
                     marks=[pytest.mark.xfail(strict=True, reason=r.bug)] if r.bug else [])
        for r in REFUSALS
    ],
)
def test_each_guard_refuses_with_its_italian_reason(refusal):
    with pytest.raises(GuardRefused) as refused:
        fire(refusal.case_type, refusal.transition, **refusal.kwargs)
    matching = [r for r in refused.value.reasons if refusal.expect in r]
    assert matching, refused.value.reasons
    assert refusal.expect in str(refused.value)

    # without that guard the reason is gone (or given once less): the refusal was this guard's
    wf = without_guard(get_workflow(refusal.case_type), refusal.transition, refusal.guard)
    still = [r for r in _reasons(refusal, wf) if refusal.expect in r]
    assert len(still) == len(matching) - 1


def test_every_guard_of_every_declaration_has_a_refusal_test():
    from tests.unit import test_bonus_famiglia  # a case type whose refusals live in its own test module

    declared = {(wf.case_type, t.name, g.description) for wf in all_workflows() for t in wf.transitions
                for g in t.guards}
    covered = {(r.case_type, r.transition, r.guard) for r in (*REFUSALS, *test_bonus_famiglia.REFUSALS)}
    assert declared - covered == set(), "guards without a refusal test"
    assert covered - declared == set(), "refusal tests of guards no longer declared"


# --- the other side of the thresholds ----------------------------------------------------------


def test_patto_isee_exactly_at_the_local_cap_is_admitted():
    decision = fire("patto", "avvia_redazione", patch={"isee": isee("ordinario", "9360.00")})
    assert decision.to_state == "DRAFTING"


def test_patto_above_the_coordinator_threshold_is_activated_by_the_coordinator():
    decision = fire("patto", "attiva", patch={"misura_economica": {"importo": "350.00"}},
                    role=R.SUBAREA_COORDINATOR)
    assert decision.to_state == "ACTIVE"


def test_patto_a_one_off_payment_counts_once_towards_the_threshold():
    # 3.000 once is at the threshold (not above it): a worker may activate it
    decision = fire("patto", "attiva", patch={"misura_economica": {"tipo": "una_tantum", "importo": "3000.00"}})
    assert decision.to_state == "ACTIVE"


def test_patto_of_exactly_twelve_months_is_accepted():
    decision = fire("patto", "attiva", patch={"data_inizio": "2025-11-01", "data_fine": "2026-11-01"})
    assert decision.to_state == "ACTIVE"


def test_patto_above_cap_by_a_worker_gives_both_reasons():
    with pytest.raises(GuardRefused) as refused:
        fire("patto", "attiva", patch={"misura_economica": {"importo": "700.00"}}, role=R.SOCIAL_WORKER)
    assert len(refused.value.reasons) == 2
    assert "oltre il tetto del patto" in refused.value.reasons[0]
    assert "serve l'approvazione del coordinatore" in refused.value.reasons[1]


def test_patto_verification_may_start_on_the_end_date():
    decision = fire("patto", "avvia_verifica", case_patch={"data_fine": "2026-11-20"})
    assert decision.to_state == "UNDER_REVIEW"


def test_fna_minor_with_ordinario_isee_up_to_forty_thousand_is_admitted():
    decision = fire("fna_domanda", "ammetti", case_patch={"isee": isee("ordinario", "40000.00")},
                    case_fields={"person": MINOR})
    assert decision.to_state == "ELIGIBLE"


def test_fna_adult_with_sociosanitario_isee_at_the_cap_is_admitted():
    decision = fire("fna_domanda", "ammetti", case_patch={"isee": isee("sociosanitario", "25000.00")})
    assert decision.to_state == "ELIGIBLE"


def test_fna_caps_come_from_the_call_not_from_the_code():
    def stricter(world):
        world.set_case_data(FINAL_CALL_ID, isee_max_adulti="15000.00")

    with pytest.raises(GuardRefused, match=r"oltre la soglia del bando \(€ 15.000,00\)"):
        fire("fna_domanda", "ammetti", setup=stricter)


def test_fna_attendance_allowance_alone_meets_the_disability_requirement():
    decision = fire("fna_domanda", "ammetti",
                    case_patch={"invalidita_104_art3c3": False, "indennita_accompagnamento": True})
    assert decision.to_state == "ELIGIBLE"


def test_fna_application_on_the_last_day_of_the_window_is_accepted():
    def closes_today(world):
        world.set_case_data(OPEN_CALL_ID, chiusura="2026-11-20")

    assert fire("fna_domanda", "presenta", setup=closes_today).to_state == "SUBMITTED"


def _another_application(world, state: str, **data: Any) -> None:
    """An application of the final call ranked before the default one (ADL 6, IADL 8), in `state`."""
    better = {**case_data("fna_domanda"), "protocollo": "2026/0001", "adl": 6, "iadl": 8, **data}
    world.cases[CASE_ID + 1] = case_in("fna_domanda", state, better, id=CASE_ID + 1)


@pytest.mark.parametrize("state", ["FUNDED", "DISBURSING", "WITHDRAWN", "LAPSED", "NOT_ADMITTED"])
def test_fna_funding_follows_the_ranking_once_who_comes_first_is_funded_or_out(state):
    assert fire("fna_domanda", "finanzia", setup=lambda w: _another_application(w, state)).to_state == "FUNDED"


def test_fna_funding_waits_for_a_better_ranked_application_not_funded_for_lack_of_resources():
    with pytest.raises(GuardRefused, match="2026/0001"):
        fire("fna_domanda", "finanzia", setup=lambda w: _another_application(w, "NOT_FUNDED"))


def test_fna_funding_is_not_held_up_by_a_worse_ranked_application():
    decision = fire("fna_domanda", "finanzia", setup=lambda w: _another_application(w, "ELIGIBLE", adl=0, iadl=0))
    assert decision.to_state == "FUNDED"


def test_fna_funding_uses_exactly_the_remaining_budget():
    def almost_spent(world):
        world.committed[FINAL_CALL_ID] = Decimal("96400.00")

    assert fire("fna_domanda", "finanzia", setup=almost_spent).to_state == "FUNDED"


def test_fna_funding_is_allowed_while_the_call_is_disbursing():
    decision = fire("fna_domanda", "finanzia", setup=lambda w: w.set_case_state(FINAL_CALL_ID, "DISBURSING"))
    assert decision.to_state == "FUNDED"


def test_fna_rejection_on_the_eleventh_day_is_allowed():
    assert fire("fna_domanda", "rigetta", case_patch={"comunicato_il": "2026-11-09"}).to_state == "NOT_ADMITTED"


def test_fna_rejection_before_ten_days_is_allowed_once_observations_are_examined():
    decision = fire("fna_domanda", "rigetta", case_patch={"comunicato_il": "2026-11-18"},
                    patch={"osservazioni_ricevute": True, "esame_osservazioni": "non superano i motivi ostativi"})
    assert decision.to_state == "NOT_ADMITTED"


def test_fna_payment_for_a_personal_assistant_with_contributions_checked_is_recorded():
    decision = fire("fna_domanda", "registra_pagamento", case_patch={"misura": "assistente_personale"},
                    patch={"contributi_inps_verificati": True})
    assert decision.to_state == "DISBURSING"


def test_sad_rate_exactly_at_the_maximum_is_accepted():
    assert fire("sad_caso", "emetti_voucher", patch={"tariffa_oraria": "23.50"}).to_state == "VOUCHER_ISSUED"


def test_sad_provider_covering_the_comune_may_be_chosen_in_agnadello():
    decision = fire("sad_caso", "scegli_ente", patch={"ente": "ENTE06"}, case_fields={"comune_istat": AGNADELLO})
    assert decision.provider_codice == "ENTE06"


def test_sad_a_worker_may_suspend_whatever_the_provider():
    assert fire("sad_caso", "sospendi", role=R.SOCIAL_WORKER).to_state == "SUSPENDED"


def test_guard_reasons_are_all_collected_not_only_the_first():
    with pytest.raises(GuardRefused) as refused:
        fire("fna_domanda", "ammetti", case_patch={"altre_misure": ["B1"], "isee": isee("sociosanitario", "30000")},
             patch={"importo_mensile_proposto": "401.00"})
    assert len(refused.value.reasons) == 3
    assert str(refused.value).startswith("transizione rifiutata: ")


def test_a_refused_transition_is_checked_at_now():
    # the same application a minute later still refused: the guards read the effective date, not the wall clock
    with pytest.raises(GuardRefused):
        fire("fna_domanda", "rigetta", case_patch={"comunicato_il": "2026-11-10"}, at=NOW.replace(minute=1))


# --- defects found while writing these tests, now fixed --------------------------------------


def test_fna_funding_an_application_whose_call_is_missing_is_refused_with_a_reason():
    with pytest.raises(GuardRefused, match="la graduatoria definitiva del bando non è ancora approvata"):
        fire("fna_domanda", "finanzia", case_fields={"related_case_id": 999})


def test_fna_admission_of_a_measure_the_call_does_not_offer_states_the_reason_once():
    with pytest.raises(GuardRefused) as refused:
        fire("fna_domanda", "ammetti", patch={"misura_proposta": "voucher_minori"})
    assert refused.value.reasons == ["il bando non prevede la misura «voucher_minori»"]
