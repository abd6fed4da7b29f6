"""Generated acts (issue 13 item 4, DOMAIN.md §14) on both databases: generated on the case page, the API and the
CLI from the case's data, stored among the case's documents with their SHA-256, downloaded as PDF/A by who may
read the case; out of scope refused at every entrance; an act with health data only for who reads health data."""
from __future__ import annotations

import base64
import hashlib
import html
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.access import health_reads
from services.cases import CaseService
from tests.integration.conftest import NOW
from tests.pdfa_check import pdf_text, pdfa_problems
from tests.web.conftest import PASSWORD, csrf_of

runner = CliRunner()


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def api(app):
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, headers=basic(username))
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def cli(db_url, web_engine, monkeypatch):
    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine

    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield lambda *args: runner.invoke(app, list(args))
    cached_engine(db_url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def notice_of_rejection(web_engine, case_id: int) -> None:
    service = CaseService(web_engine, clock=lambda: NOW)
    service.advance(case_id=case_id, transition="preavviso_rigetto", actor=service.actor("udp.neri"),
                    effective_at=date(2026, 11, 2),
                    data={"motivi": ["ISEE sociosanitario oltre la soglia del bando"], "comunicato_il": "02/11/2026"})


def test_a_worker_generates_the_patto_on_the_case_page_and_downloads_the_stored_pdfa(world, client_for):
    case_id = world["patto_crema"]
    page = client_for("as.rossi")
    shown = html.unescape(page.get(f"/casi/{case_id}").text)
    assert "Genera atto: Patto gener-attivo da sottoscrivere" in shown
    posted = page.post(f"/casi/{case_id}/atti/patto_da_firmare", follow_redirects=False,
                       data={"csrf_token": csrf_of(page, f"/casi/{case_id}")})
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"].startswith(f"/casi/{case_id}?atto=")
    shown = html.unescape(page.get(posted.headers["location"]).text)
    assert "Atto generato e archiviato tra i documenti del caso" in shown
    link = shown[shown.index('data-testid="atti-generati"'):]
    href = link[link.index('href="') + 6:link.index('" download')]
    pdf = page.get(href)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert "patto-da-firmare-caso-" in pdf.headers["content-disposition"]
    assert pdfa_problems(pdf.content) == []
    assert hashlib.sha256(pdf.content).hexdigest() in link
    text = pdf_text(pdf.content)
    for words in ("Patto gener-attivo da sottoscrivere", "rientro dal debito", "Parrocchia", "€ 2.400,00",
                  "dal 01/02/2026 e termina il 31/07/2026", "Luca Bianchi", "L'assistente sociale"):
        assert words in text


def test_the_planning_office_generates_the_notice_before_rejection_through_the_api_and_the_csc_downloads_it(
        world, api, web_engine):
    case_id = world["fna"]
    assert api("udp.neri").post(f"/api/v1/casi/{case_id}/atti/preavviso_rigetto").status_code == 422  # ASSESSMENT
    notice_of_rejection(web_engine, case_id)
    offered = api("udp.neri").get(f"/api/v1/casi/{case_id}/atti").json()
    assert [a["atto"] for a in offered["offerti"]] == ["preavviso_rigetto"]

    made = api("udp.neri").post(f"/api/v1/casi/{case_id}/atti/preavviso_rigetto")
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (doc["tipo"], doc["origine"], doc["atto"], doc["classe"]) == ("atto", "generato", "preavviso_rigetto",
                                                                         "sociale")
    assert made.headers["location"] == doc["url"]
    pdf = api("csc.bianchi").get(doc["url"])
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == doc["sha256"]
    assert pdfa_problems(pdf.content) == []
    text = pdf_text(pdf.content)
    for words in ("art. 10-bis della Legge 7 agosto 1990, n. 241", "Entro il termine di 10 giorni",
                  "ISEE sociosanitario oltre la soglia del bando", "Ferri Elena", "CSC-2026-0042"):
        assert words in text
    assert [d["id"] for d in api("csc.bianchi").get(f"/api/v1/casi/{case_id}/atti").json()["generati"]] == [doc["id"]]


def test_the_cli_lists_and_generates_an_act_with_json(world, cli, tmp_path):
    case_id = world["sad_ente01"]
    listed = cli("atti", "elenco", str(case_id), "--actor", "as.rossi", "--json")
    assert listed.exit_code == 0, listed.output
    assert [a["atto"] for a in json.loads(listed.stdout)["offerti"]] == ["voucher_sad"]
    out = tmp_path / "voucher.pdf"
    made = cli("atti", "genera", str(case_id), "voucher_sad", "--actor", "as.rossi", "--file", str(out), "--json")
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert doc["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and doc["atto"] == "voucher_sad"
    text = pdf_text(out.read_bytes())
    assert "Voucher sociale per l'assistenza domiciliare" in text and "€ 473,00" in text  # 22 h × € 21,50
    again = cli("atti", "elenco", str(case_id), "--actor", "as.rossi", "--json")
    assert [d["id"] for d in json.loads(again.stdout)["generati"]] == [doc["id"]]
    text = cli("atti", "elenco", str(case_id), "--actor", "as.rossi")
    assert text.exit_code == 0 and "voucher_sad: Voucher sociale per l'assistenza domiciliare" in text.output
    assert doc["sha256"] in text.output
    said = cli("atti", "genera", str(case_id), "voucher_sad", "--actor", "as.rossi")
    assert said.exit_code == 0 and said.output.startswith("Atto «Voucher sociale per l'assistenza domiciliare» "
                                                          "generato: documento n. ")
    refused = cli("atti", "genera", str(case_id), "voucher_sad", "--actor", "as.verdi")
    assert refused.exit_code != 0


def test_the_patto_to_sign_takes_its_contents_before_activation_and_refuses_bad_ones_naming_the_field(
        world, api, web_engine):
    from tests.integration.patto_steps import ASSEGNA, VALUTAZIONE, segnalazione

    service = CaseService(web_engine, clock=lambda: NOW)
    worker = service.actor("as.rossi")
    case_id = service.open_case(case_type="patto", actor=worker, comune_istat="019035",
                                effective_at=date(2026, 11, 2), data=segnalazione(surname="Neri", name="Paola"))
    service.advance(case_id=case_id, transition="assegna", actor=service.actor("coord.crema"),
                    data={**ASSEGNA, "assegnatario": "as.rossi"}, effective_at=date(2026, 11, 3))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                    effective_at=date(2026, 11, 5))
    client = api("as.rossi")
    bad = client.post(f"/api/v1/casi/{case_id}/atti/patto_da_firmare",
                      json={"contenuti": {"obiettivi": [{"descrizione": "x"}]}})
    assert bad.status_code == 422
    assert {e["etichetta"] for e in bad.json()["errori"]} >= {"Obiettivo 1 › Descrizione", "Obiettivo 1 › Indicatore"}
    made = client.post(f"/api/v1/casi/{case_id}/atti/patto_da_firmare", json={"contenuti": {
        "obiettivi": [{"descrizione": "Corso di italiano", "indicatore": "lezioni frequentate", "target": "20"}],
        "data_inizio": "01/12/2026", "data_fine": "31/05/2027", "firmatari": ["Paola Neri"]}})
    assert made.status_code == 201, made.text
    text = pdf_text(client.get(made.json()["url"]).content)
    assert "Corso di italiano" in text and "dal 01/12/2026 e termina il 31/05/2027" in text
    assert "Da compilare: almeno un impegno" in text  # the part not given is left to fill by hand


def test_out_of_scope_a_role_that_issues_no_acts_and_an_unknown_act_are_refused(world, api, client_for):
    patto, sad = world["patto_crema"], world["sad_ente01"]
    made = api("as.rossi").post(f"/api/v1/casi/{patto}/atti/patto_da_firmare").json()
    outsider = api("as.verdi")  # Pandino's worker
    assert outsider.post(f"/api/v1/casi/{patto}/atti/patto_da_firmare").status_code == 403
    assert outsider.get(made["url"]).status_code == 403
    assert outsider.get(f"/api/v1/casi/{patto}/atti").status_code == 403
    page = client_for("as.verdi")
    assert page.get(f"/casi/{patto}/documenti/{made['id']}").status_code == 403
    assert api("ente.girasole").post(f"/api/v1/casi/{sad}/atti/voucher_sad").status_code == 403  # a provider
    unknown = api("as.rossi").post(f"/api/v1/casi/{patto}/atti/lettera_anonima")
    assert unknown.status_code == 404 and "disponibili: patto_da_firmare" in unknown.text


def test_the_vulnerability_sheet_prints_health_data_so_only_its_health_readers_generate_it_and_its_reads_are_logged(
        world, api, web_engine):
    from tests.integration.test_bonus_famiglia import SHEET, request

    service = CaseService(web_engine, clock=lambda: NOW)
    case_id = service.open_case(case_type="bonus_famiglia", actor=service.actor("csc.bianchi"), comune_istat="019035",
                                effective_at=date(2026, 3, 2), data=request("Ferrari", figli=2))
    service.advance(case_id=case_id, transition="rilascia_scheda", actor=service.actor("as.rossi"),
                    effective_at=date(2026, 3, 9), data=SHEET)
    csc = api("csc.bianchi").post(f"/api/v1/casi/{case_id}/atti/scheda_vulnerabilita")
    assert csc.status_code == 403 and "dati sanitari" in csc.text
    colleague = api("as.bruni").post(f"/api/v1/casi/{case_id}/atti/scheda_vulnerabilita")  # not the owner
    assert colleague.status_code == 403
    made = api("as.rossi").post(f"/api/v1/casi/{case_id}/atti/scheda_vulnerabilita")
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["classe"] == "sanitario"
    assert [r["contesto"] for r in health_reads(web_engine, case_id=case_id, username="as.rossi")] == [
        "atto:scheda_vulnerabilita"]
    assert api("csc.bianchi").get(doc["url"]).status_code == 403
    pdf = api("coord.crema").get(doc["url"])
    assert pdf.status_code == 200 and pdfa_problems(pdf.content) == []
    text = pdf_text(pdf.content)
    assert "Data presunta del parto 20/07/2026" in text and "Figli attesi o adottati 2" in text
    assert "nucleo monoreddito" not in text  # the interview notes stay in the case: the sheet does not print them
