"""Oggi, the indicators dashboard, the outbox page and the personal calendar link, on both databases.

The world's clock is 20/11/2026: its cases started in January-June 2026, so the patti's monitoring and
end-of-pact deadlines and the SAD first visit are long overdue.
"""
from __future__ import annotations

import re
from datetime import date

import icalendar
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.calendar_link import calendar_token
from services.cases import CaseService
from services.sweep import run_deadline_sweep
from services.tallies import materialise
from store.tables import deadline_t, outbox_t, tally_snapshot_t
from tests.district_world import CREMA
from tests.integration.conftest import NOW
from tests.integration.patto_steps import MONITORAGGIO, segnalazione

TODAY = NOW.date()


def section(html: str, testid: str) -> str:
    """The HTML of the element carrying data-testid=`testid` (tables and lists of the pages)."""
    match = re.search(rf'<(table|ul|p)[^>]*data-testid="{testid}".*?</\1>', html, re.DOTALL)
    return match.group(0) if match else ""


def case_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/casi/(\d+)"', html)}


def sweep(engine) -> None:
    run_deadline_sweep(engine, as_of=TODAY, service=CaseService(engine, clock=lambda: NOW))


def monitoring_due_next_week(engine, case_id: int) -> date:
    """as.rossi logs a monitoring meeting on 26/10/2026: the next one falls due within the next working days."""
    service = CaseService(engine, clock=lambda: NOW)
    service.advance(case_id=case_id, transition="registra_monitoraggio", actor=service.actor("as.rossi"),
                    effective_at=date(2026, 10, 26), data={**MONITORAGGIO, "incontro_il": "26/10/2026"})
    with engine.connect() as conn:
        return conn.execute(sa.select(deadline_t.c.due).where(deadline_t.c.case_id == case_id,
                                                              deadline_t.c.kind == "monitoraggio",
                                                              deadline_t.c.status == "open")).scalar_one()


# ----------------------------------------------------------------------------- Oggi


def test_oggi_lists_the_social_workers_own_overdue_and_coming_deadlines_and_not_a_colleagues(
        world, web_engine, client_for):
    due = monitoring_due_next_week(web_engine, world["patto_crema"])
    assert TODAY < due <= date(2026, 11, 27)

    page = client_for("as.rossi").get("/oggi")

    assert page.status_code == 200
    overdue = section(page.text, "scadenze-scadute")
    assert case_links(overdue) == {world["patto_crema"], world["sad_ente01"], world["minore"]}
    assert "Fine del patto: avvio della verifica" in overdue and "31/07/2026" in overdue
    assert "scaduta da" in overdue
    upcoming = section(page.text, "scadenze-prossime")
    assert case_links(upcoming) == {world["patto_crema"]}
    assert due.strftime("%d/%m/%Y") in upcoming
    assert "Nessuna scadenza oggi" in page.text  # nothing falls due on the 20th itself
    assert world["patto_pandino"] not in case_links(page.text)


def test_oggi_of_the_other_social_worker_shows_her_case_only(world, client_for):
    page = client_for("as.verdi").get("/oggi")

    assert case_links(section(page.text, "scadenze-scadute")) == {world["patto_pandino"]}
    assert "Nessuna scadenza nei prossimi giorni lavorativi" in page.text


def test_oggi_of_a_coordinator_covers_the_sub_ambitos_cases_including_unassigned_referrals(
        world, web_engine, client_for):
    service = CaseService(web_engine, clock=lambda: NOW)
    referral = service.open_case(case_type="patto", actor=service.actor("as.bruni"), comune_istat=CREMA,
                                 effective_at=date(2026, 11, 13), data=segnalazione(surname="Neri", name="Lia"))

    crema = client_for("coord.crema").get("/oggi").text
    pandino = client_for("coord.pandino").get("/oggi").text

    assert {world["patto_crema"], world["sad_ente01"], world["minore"]} <= case_links(
        section(crema, "scadenze-scadute"))
    assert world["patto_pandino"] not in case_links(crema)
    assert referral in case_links(section(crema, "scadenze-prossime"))  # presa in carico due 27/11
    assert "Presa in carico" in section(crema, "scadenze-prossime")
    assert case_links(section(pandino, "scadenze-scadute")) == {world["patto_pandino"]}
    assert referral not in case_links(client_for("as.rossi").get("/oggi").text)  # not hers (yet)


def test_escalations_appear_for_the_coordinator_they_were_sent_to_after_the_sweep(world, web_engine, client_for):
    before = client_for("coord.crema").get("/oggi").text
    assert "Nessun sollecito in attesa" in before

    sweep(web_engine)
    crema = client_for("coord.crema").get("/oggi").text
    pandino = client_for("coord.pandino").get("/oggi").text
    rossi = client_for("as.rossi").get("/oggi").text

    escalated = case_links(section(crema, "escalation"))
    assert {world["patto_crema"], world["sad_ente01"]} <= escalated
    assert world["patto_pandino"] not in escalated
    assert case_links(section(pandino, "escalation")) == {world["patto_pandino"]}
    assert "20/11/2026" in section(crema, "escalation")  # the day the sweep escalated them
    # the owner's own overdue notice is not an escalation
    assert "Nessun sollecito in attesa" in rossi


def test_planning_office_sees_statutory_breaches_of_the_cases_it_reads(world, web_engine, client_for):
    service = CaseService(web_engine, clock=lambda: NOW)
    service.advance(case_id=world["fna"], transition="preavviso_rigetto", actor=service.actor("udp.neri"),
                    effective_at=date(2026, 9, 1),
                    data={"motivi": ["ISEE oltre la soglia del bando"], "comunicato_il": "01/09/2026"})

    page = client_for("udp.neri").get("/oggi").text

    breaches = section(page, "termini-normativi")
    assert case_links(breaches) == {world["fna"]}
    assert "termine normativo" in breaches
    assert case_links(section(page, "scadenze-scadute")) >= {world["fna"], world["bando"]}
    assert not case_links(page) & {world["patto_crema"], world["patto_pandino"], world["sad_ente01"]}


def test_oggi_lists_the_obligations_of_the_role_limited_to_the_users_cases(world, client_for):
    rossi = section(client_for("as.rossi").get("/oggi").text, "obblighi")
    verdi = section(client_for("as.verdi").get("/oggi").text, "obblighi")
    udp = section(client_for("udp.neri").get("/oggi").text, "obblighi")

    assert "Rinnovo ISEE dei beneficiari attivi" in rossi and "31/12/2026" in rossi
    assert f"caso n. {world['patto_crema']}" in rossi and f"caso n. {world['patto_pandino']}" not in rossi
    assert f"caso n. {world['patto_pandino']}" in verdi
    assert "Almeno una misura abitativa" in udp and "Rinnovo ISEE" not in udp


def test_oggi_of_a_provider_shows_the_sad_users_that_chose_it_only(world, client_for):
    page = client_for("ente.girasole").get("/oggi").text

    overdue = section(page, "scadenze-scadute")
    assert case_links(overdue) == {world["sad_ente01"]} and "Prima visita" in overdue
    assert not case_links(page) & {world["sad_ente02"], world["patto_crema"], world["fna"]}


def test_oggi_needs_a_session(app):
    with TestClient(app) as anonymous:
        response = anonymous.get("/oggi", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/accesso")


# ----------------------------------------------------------------------------- Cruscotto


@pytest.mark.parametrize("username", ["udp.neri", "ovd.valutatore"])
def test_the_dashboard_shows_charts_with_a_label_and_tables_with_the_same_numbers(world, client_for, username):
    page = client_for(username).get("/cruscotto")

    assert page.status_code == 200
    svg = re.search(r"<svg[^>]*role=\"img\"[^>]*>", page.text)
    assert svg and 'aria-label="Grafico: Patti attivati nel progetto' in page.text
    article = re.search(r'data-testid="indicatore-patti_attivati_progetto".*?</article>', page.text, re.DOTALL).group(0)
    assert "<table" in article and 'scope="row">Crema</th>' in article
    assert 'value="2026" selected' in page.text  # the app clock's year


def test_small_cells_are_shown_as_suppressed(world, client_for):
    page = client_for("udp.neri").get("/cruscotto").text

    article = re.search(r'data-testid="indicatore-patti_attivati_progetto".*?</article>', page, re.DOTALL).group(0)
    crema_row = re.search(r'scope="row">Crema</th>(.*?)</tr>', article, re.DOTALL).group(1)
    assert "n&lt;5" in crema_row and not re.search(r">\s*\d+\s*<", crema_row)
    assert "Crema: n&lt;5" in article  # the chart's description says the same


def test_social_workers_and_providers_are_refused_the_dashboard(world, client_for):
    for username in ("as.rossi", "ente.girasole"):
        response = client_for(username).get("/cruscotto")
        assert response.status_code == 403
        assert "riservato ai coordinatori" in response.text


def test_a_coordinator_sees_their_sub_ambito_and_the_district_total_only(world, client_for):
    coord = client_for("coord.crema")
    page = coord.get("/cruscotto").text

    assert 'scope="col" class="text-end">Crema</th>' in page
    assert 'scope="row">Pandino</th>' not in page and ">Pandino</th>" not in page
    assert "Totale distretto" in page
    assert coord.get("/cruscotto?sub_ambito=Pandino").status_code == 403


def test_the_dashboard_reads_the_days_snapshot_when_there_is_one(world, web_engine, client_for):
    body = materialise(web_engine, as_of=TODAY)
    for item in body["sub_ambito"]["indicatori"]:
        if item["codice"] == "patti_attivati_ulteriori":
            item["totale"] = {"valore": 4321, "n": 4321, "soppresso": False}
    with web_engine.begin() as conn:
        conn.execute(tally_snapshot_t.update().where(tally_snapshot_t.c.as_of == TODAY).values(body=body))

    page = client_for("csc.bianchi").get("/cruscotto").text

    assert "istantanea giornaliera" in page and "4.321" in page


def test_the_dashboard_year_and_sub_ambito_selectors_filter_and_check_their_input(world, client_for):
    udp = client_for("udp.neri")

    pandino = udp.get("/cruscotto?sub_ambito=Pandino&anno=2026").text
    assert 'scope="col" class="text-end">Pandino</th>' in pandino
    assert 'scope="row">Crema</th>' not in pandino
    assert udp.get("/cruscotto?anno=2031").status_code == 422
    assert udp.get("/cruscotto?sub_ambito=Atlantide").status_code == 422


# ----------------------------------------------------------------------------- Posta in uscita


def test_the_outbox_page_lists_messages_for_an_administrator_and_sends_nothing(world, web_engine, client_for):
    sweep(web_engine)
    with web_engine.connect() as conn:
        queued = conn.execute(sa.select(outbox_t.c.recipient, outbox_t.c.status)).all()
    assert queued and {s for _, s in queued} == {"pending"}

    admin = client_for("udp.admin")
    page = admin.get("/admin/posta")

    assert page.status_code == 200
    rows = section(page.text, "messaggi")
    assert "coord.crema@example.org" in rows and "as.rossi@example.org" in rows
    assert f'data-stato="pending">{len(queued)}<' in page.text
    filtered = section(admin.get("/admin/posta?destinatario=coord.crema").text, "messaggi")
    assert "coord.crema@example.org" in filtered and "as.rossi@example.org" not in filtered
    assert "Nessun messaggio" in admin.get("/admin/posta?stato=sent").text
    assert "Nessun messaggio" in admin.get("/admin/posta?giorno=2026-01-01").text
    assert admin.get("/admin/posta?stato=chissà").status_code == 422
    with web_engine.connect() as conn:
        assert {s for (s,) in conn.execute(sa.select(outbox_t.c.status))} == {"pending"}


def test_the_outbox_page_is_refused_to_who_is_not_an_administrator(world, client_for):
    response = client_for("udp.neri").get("/admin/posta")

    assert response.status_code == 403
    assert "solo dagli amministratori" in response.text


# ----------------------------------------------------------------------------- calendar link


def calendar_path(client: TestClient) -> str:
    """The subscription URL the profile page shows, without scheme and host."""
    found = re.search(r'value="(https?://[^"]+\.ics)"[^>]*data-testid="calendario-url"', client.get("/profilo").text)
    assert found, "the profile page shows no calendar link"
    return re.sub(r"^https?://[^/]+", "", found.group(1))


def test_the_calendar_token_is_the_first_32_hex_digits_of_the_hmac_and_differs_per_user():
    import hashlib
    import hmac

    token = calendar_token("segreto", "as.rossi")
    assert token == hmac.new(b"segreto", b"ics:as.rossi", hashlib.sha256).hexdigest()[:32]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert token != calendar_token("segreto", "as.verdi") != calendar_token("altro", "as.verdi")


def test_the_calendar_link_serves_the_users_own_deadlines_without_a_session(world, app, client_for):
    path = calendar_path(client_for("as.rossi"))
    secret = app.state.services.settings.secret_key
    assert path == f"/calendario/as.rossi/{calendar_token(secret, 'as.rossi')}.ics"

    with TestClient(app) as anonymous:
        response = anonymous.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    urls = {str(e.get("url")) for e in cal.walk("VEVENT")}
    assert any(u.endswith(f"/casi/{world['patto_crema']}") for u in urls)
    assert not any(u.endswith(f"/casi/{world['patto_pandino']}") for u in urls)
    assert any("SCADUTA" in str(e.get("summary")) for e in cal.walk("VEVENT"))


def test_a_wrong_calendar_token_is_not_found(world, app):
    secret = app.state.services.settings.secret_key
    with TestClient(app) as anonymous:
        wrong = anonymous.get("/calendario/as.rossi/" + "0" * 32 + ".ics")
        someone_elses = anonymous.get(f"/calendario/as.rossi/{calendar_token(secret, 'as.verdi')}.ics")
        unknown = anonymous.get(f"/calendario/nessuno/{calendar_token(secret, 'nessuno')}.ics")
    assert wrong.status_code == someone_elses.status_code == unknown.status_code == 404
    assert "BEGIN:VCALENDAR" not in wrong.text
