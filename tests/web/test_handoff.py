"""Guided hand-offs and readable cases (issue 12, items 2 and 3): a confirmation after every step, the case page
saying what the case waits for and who acts next (derived from the declarations through the access decision),
Oggi listing the referrals to assign and the cases newly assigned, forward steps before secondary ones, a reasoned
«Nessuna azione disponibile», people and providers by name, repeated records as tables, the older steps folded."""
from __future__ import annotations

import html
import re
from datetime import date

from domain.access import CaseRef, WhoActs, who_may_fire
from domain.registry import all_workflows, get_workflow
from domain.workflow import Role
from services.cases import CaseService
from tests.integration.conftest import NOW
from tests.integration.patto_steps import ASSEGNA, segnalazione
from tests.web.conftest import csrf_of
from web.describe import Table, describe_blocks

CREMA = "019035"
R = Role


def text(response) -> str:
    return html.unescape(response.text)


def pointer(page: str) -> str:
    return re.sub(r"\s+", " ", re.search(r'data-testid="in-attesa">(.*?)</div>', page, re.DOTALL).group(1)
                  .replace('<p class="fw-semibold mb-0">', "").replace("</p>", "")).strip()


def section(page: str, testid: str) -> str:
    found = re.search(rf'<[^>]*data-testid="{testid}".*?</(table|div)>', page, re.DOTALL)
    return found.group(0) if found else ""


def open_referral(client, surname: str = "Ferraro") -> tuple[int, str]:
    token = csrf_of(client, "/casi/nuovo")
    p = segnalazione(surname=surname)["persona"]
    opened = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": token, "tipo": "patto", "tipo_modulo": "patto", "comune_istat": CREMA,
        "persona.codice_fiscale": p["codice_fiscale"], "persona.cognome": p["cognome"], "persona.nome": p["nome"],
        "persona.data_nascita": "04/05/1980", "fonte": "caritas", "bisogno": "utenze"})
    assert opened.status_code == 303, text(opened)
    return int(re.search(r"/casi/(\d+)", opened.headers["location"]).group(1)), opened.headers["location"]


# ----------------------------------------------------------------------------- confirmation and pointer


def test_a_recorded_referral_is_confirmed_and_says_it_waits_for_the_coordinator(world, client_for):
    worker = client_for("as.rossi")
    case_id, location = open_referral(worker)
    assert location == f"/casi/{case_id}?eseguita=segnala"  # post-redirect-get: the confirmation is the next page's
    page = text(worker.get(location))
    assert 'data-testid="eseguita">Registrato: «Segnalazione».' in page
    assert pointer(page) == ("In attesa di «Assegnazione e primo colloquio» da parte del coordinatore del "
                             "sub-ambito di Crema (Coord Crema).")
    assert "non ancora assegnato" in page
    again = text(worker.get(f"/casi/{case_id}"))
    assert 'data-testid="eseguita"' not in again and "In attesa di «Assegnazione" in again


def test_the_coordinator_reads_that_it_is_her_turn_and_after_assigning_who_acts_next(world, client_for):
    worker, coordinator = client_for("as.rossi"), client_for("coord.crema")
    case_id, _ = open_referral(worker)
    assert pointer(text(coordinator.get(f"/casi/{case_id}"))) == "Tocca a lei: «Assegnazione e primo colloquio»."
    token = csrf_of(coordinator, f"/casi/{case_id}")
    done = coordinator.post(f"/casi/{case_id}/transizioni/assegna", follow_redirects=False, data={
        "csrf_token": token, "assegnatario": "as.bruni", "primo_colloquio_il": "19/11/2026"})
    assert done.headers["location"] == f"/casi/{case_id}?eseguita=assegna"
    page = text(coordinator.get(done.headers["location"]))
    assert "Registrato: «Assegnazione e primo colloquio»." in page
    assert pointer(page) == ("In attesa di «Analisi e avvio della redazione del patto» da parte dell'assistente "
                             "sociale titolare, As Bruni.")
    assert re.search(r'data-testid="assegnatario">As Bruni<', page)


def test_who_acts_next_comes_from_the_declaration_and_the_access_decision_for_every_case_type():
    """No case type is named: for every declared step with people in its roles, a case in Crema assigned to
    as.rossi at ENTE01 names someone who may fire it, and each answer passes the access decision itself."""
    from domain.access import Principal, fire_refusal

    for wf in all_workflows():
        for t in wf.transitions:
            if t.opening or not (t.roles - {R.SYSTEM}):
                continue
            ref = CaseRef(wf.case_type, CREMA, "Crema", "as.rossi", "ENTE01", False, t.sources[0])
            for who in who_may_fire(ref, t):
                assert who.role in t.roles
                user = Principal(who.username or "qualcuno", who.role, who.sub_ambito, who.provider_codice,
                                 frozenset({CREMA}) if who.sub_ambito else frozenset())
                assert fire_refusal(user, ref, t) is None, (wf.case_type, t.name, who)
    assign = get_workflow("patto").transition("assegna")
    assert who_may_fire(CaseRef("patto", CREMA, "Crema", None, None, False, "REFERRED"), assign) == (
        WhoActs(R.SUBAREA_COORDINATOR, None, "Crema", None),)
    sign = get_workflow("patto").transition("attiva")
    assert who_may_fire(CaseRef("patto", CREMA, "Crema", "as.rossi", None, False, "DRAFTING"), sign) == (
        WhoActs(R.SOCIAL_WORKER, "as.rossi", "Crema", None), WhoActs(R.SUBAREA_COORDINATOR, None, "Crema", None))


def test_a_bonus_famiglia_opened_by_csc_waits_for_the_assigned_worker_by_name(world, client_for, web_engine):
    from tests.web.test_bonus_famiglia_api import request

    service = CaseService(web_engine, clock=lambda: NOW)
    case_id = service.open_case(case_type="bonus_famiglia", actor=service.actor("csc.bianchi"), comune_istat=CREMA,
                                effective_at=date(2026, 3, 2), data=request("Fontana"))
    csc = pointer(text(client_for("csc.bianchi").get(f"/casi/{case_id}")))
    assert csc == ("Tocca a lei: «Domanda presentata sulla piattaforma regionale». Altri passi possibili: "
                   "«Colloquio: scheda rilasciata» da parte dell'assistente sociale titolare, As Rossi.")
    colleague = pointer(text(client_for("as.bruni").get(f"/casi/{case_id}")))
    assert colleague.startswith("In attesa di «Colloquio: scheda rilasciata» da parte dell'assistente sociale "
                                "titolare, As Rossi; oppure «Domanda presentata sulla piattaforma regionale» da parte "
                                "dell'assistente sociale titolare, As Rossi o dell'amministrativo CSC")


# ----------------------------------------------------------------------------- actions in order, reasons


def test_the_forward_step_comes_first_and_archiving_is_secondary(world, client_for):
    case_id, _ = open_referral(client_for("as.rossi"))
    page = text(client_for("coord.crema").get(f"/casi/{case_id}"))
    order = re.findall(r'data-testid="azione-([a-z_]+)"', page)
    assert order == ["assegna", "archivia"]
    assert re.search(r'class="[^"]*azione-avanti[^"]*" id="azione-assegna"[^>]*open', page)  # the one forward step
    archive = re.search(r'id="azione-archivia".*?</details>', page, re.DOTALL).group(0)
    assert "azione-secondaria" in page and "btn-outline-secondary" in archive and "btn-primary" not in archive
    assert page.index("Altre azioni") < page.index('id="azione-archivia"')


def test_every_declared_step_that_ends_a_case_early_or_suspends_it_is_secondary():
    for wf in all_workflows():
        for t in wf.transitions:
            target = wf.state(t.target)
            assert wf.is_secondary(t) == (target.off_path or target.suspended)
            if target.off_path:
                assert target.terminal
    patto = get_workflow("patto")
    assert [t.name for t in patto.transitions if patto.is_secondary(t)] == [
        "archivia", "non_ammette", "sospendi", "interrompi", "rinuncia"]


def test_no_action_says_why_and_who_can_act(world, client_for):
    page = text(client_for("as.bruni").get(f"/casi/{world['patto_crema']}"))
    block = re.search(r'data-testid="nessuna-azione">(.*?)</section>', page, re.DOTALL).group(1)
    assert "Nessuna azione disponibile per lei su questo caso ora." in block
    assert "Perché: il caso è assegnato a «As Rossi»: può procedere solo l'assegnatario." in block
    assert "«Monitoraggio» da parte dell'assistente sociale titolare, As Rossi" in block
    assert "as.rossi" not in block and "non può eseguire" not in block  # only the reason that counts
    udp_block = text(client_for("udp.neri").get(f"/casi/{world['fna']}"))
    if 'data-testid="nessuna-azione"' in udp_block:
        assert "Perché:" in udp_block and "Chi può procedere:" in udp_block


# ----------------------------------------------------------------------------- Oggi


def test_the_coordinators_oggi_lists_the_referrals_to_assign_oldest_first_with_their_deadline(world, client_for,
                                                                                              web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    worker = service.actor("as.rossi")
    newer = service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=date(2026, 11, 18),
                              data=segnalazione(surname="Neri"))
    older = service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=date(2026, 11, 2),
                              data=segnalazione(surname="Olmi"))
    page = text(client_for("coord.crema").get("/oggi"))
    assert "Segnalazioni da assegnare (2)" in page
    table = section(page, "da-assegnare")
    assert table.index(f"n. {older}<") < table.index(f"n. {newer}<")
    assert f'href="/casi/{older}#azione-assegna"' in table
    assert re.search(rf"n\. {older}<.*?\d\d/\d\d/2026 <span class=\"badge", table, re.DOTALL)
    worker_page = text(client_for("as.rossi").get("/oggi"))
    assert 'data-testid="da-assegnare"' not in worker_page  # the worker does not assign


def test_the_workers_oggi_lists_the_cases_newly_assigned_to_her_until_she_takes_the_first_step(
        world, client_for, web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    case_id = service.open_case(case_type="patto", actor=service.actor("as.rossi"), comune_istat=CREMA,
                                effective_at=date(2026, 11, 2), data=segnalazione(surname="Pace"))
    service.advance(case_id=case_id, transition="assegna", actor=service.actor("coord.crema"),
                    data={**ASSEGNA, "assegnatario": "as.bruni", "primo_colloquio_il": "05/11/2026"},
                    effective_at=date(2026, 11, 5))
    page = text(client_for("as.bruni").get("/oggi"))
    table = section(page, "assegnati")
    assert f"Patto gener-attivo n. {case_id}" in table and "Analisi e avvio della redazione del patto" in table
    assert f"n. {case_id}" not in section(text(client_for("as.rossi").get("/oggi")), "assegnati")
    from tests.integration.patto_steps import VALUTAZIONE
    service.advance(case_id=case_id, transition="avvia_redazione", actor=service.actor("as.bruni"), data=VALUTAZIONE,
                    effective_at=date(2026, 11, 10))
    assert f"n. {case_id}" not in section(text(client_for("as.bruni").get("/oggi")), "assegnati")


def test_escalations_are_called_solleciti_not_segnalazioni(world, client_for):
    page = text(client_for("coord.crema").get("/oggi"))
    assert "Solleciti ricevuti" in page and "Segnalazioni ricevute" not in page


# ----------------------------------------------------------------------------- readable history


def test_a_visit_register_is_one_table_with_italian_numbers():
    wf = get_workflow("sad_caso")
    t = wf.transition("registra_visite")
    blocks = describe_blocks(wf, t, {"mese": "2026-05-01", "ore": 2.5, "visite": [
        {"data": "2026-05-04", "operatore": "Ada Neri", "minuti": 90, "servizi": ["igiene_personale"]},
        {"data": "2026-05-11", "operatore": "Ada Neri", "minuti": 60, "servizi": ["igiene_personale", "pasti"]}]})
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 1 and tables[0].label == "Visite"
    assert tables[0].columns == ["Data della visita", "Operatore", "Durata (minuti)", "Prestazioni"]
    assert tables[0].rows[0][:3] == ["04/05/2026", "Ada Neri", "90"]
    assert ("Ore erogate nel mese", "2,5") in blocks  # a decimal comma, the computed field's own label
    assert not any(isinstance(b, tuple) and "› 1 ›" in b[0] for b in blocks)


def test_the_history_names_people_and_providers_and_folds_the_older_steps(world, client_for):
    page = text(client_for("as.rossi").get(f"/casi/{world['sad_ente01']}"))
    timeline = re.search(r'<ol data-testid="storia".*?</ol>', page, re.DOTALL).group(0)
    steps = re.findall(r'<details class="passo"( open)?>', timeline)
    assert len(steps) == 5 and [bool(s) for s in steps] == [False, False, True, True, True]
    assert "As Rossi (assistente sociale)" in timeline and "Csc Bianchi" in timeline
    assert "as.rossi" not in timeline and "ENTE01" not in page  # the provider by name, everywhere on the page
    assert re.search(r'data-testid="ente">[^<]*[A-Za-z][^<]*<', page)
    assert "€ 21,50" in timeline  # the hourly rate in euro, Italian style
    assert "Data in cui è avvenuto" in page and "Efficace il" not in page


def test_assignees_and_providers_are_offered_by_name(world, client_for):
    page = text(client_for("csc.bianchi").get("/casi/nuovo/scelte?tipo=bonus_famiglia&comune_istat=" + CREMA))
    assert '["as.rossi", "As Rossi"]' in page.replace(",\"", ", \"") or "As Rossi" in page
    assert "(as.rossi)" not in page
    outside = client_for("as.rossi").get("/casi/nuovo/scelte?tipo=patto&comune_istat=019067").json()
    assert outside == {}  # patto's opening assigns nobody; another area's comune is never looked up
