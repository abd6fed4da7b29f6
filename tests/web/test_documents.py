"""A case's documents on the case page, in the API and in the CLI (issue 13 item 5, DOMAIN.md §14), on both
databases: uploads of each accepted kind, an HTML page renamed .pdf refused, an oversized file refused in Italian,
downloads always as attachments, a health document hidden from CSC and logged when read, out of scope refused,
and the patto's activation refused without the signed patto and accepted with it (the form says so first)."""
from __future__ import annotations

import base64
import html
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.access import health_reads
from services.cases import CaseService
from tests.integration.patto_steps import ASSEGNA, VALUTAZIONE, open_patto, patto_firmato
from tests.integration.test_documents import JPEG, P7M, PDF, png
from tests.signing_fixtures import SIGNER_CF, SIGNER_NAME, cades_sign, default_pki, signed_patto_p7m, \
    signed_patto_pdf, tamper
from tests.web.conftest import NOW, PASSWORD, csrf_of

API = "/api/v1"
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert('x')</script></body></html>"


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def api(app):
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        clients.append(TestClient(app, headers=basic(username)))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def drafting(web_engine, world) -> int:
    """A patto of as.rossi in Crema being drafted: its activation waits for the signed patto."""
    service = CaseService(web_engine, clock=lambda: NOW)
    case = open_patto(service, service.actor("as.rossi"), surname="Conti", name="Lia", birth=date(1980, 5, 6))
    service.advance(case_id=case, transition="assegna", actor=service.actor("coord.crema"),
                    data={**ASSEGNA, "assegnatario": "as.rossi"}, effective_at=date(2026, 1, 14))
    service.advance(case_id=case, transition="avvia_redazione", actor=service.actor("as.rossi"), data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    return case


def upload(client: TestClient, case_id: int, content: bytes, name: str = "patto.pdf", **form):
    return client.post(f"{API}/casi/{case_id}/documenti", files={"file": (name, content, "application/pdf")},
                       data={"tipo": "patto_firmato", **form})


@pytest.mark.parametrize(("content", "name", "media"), [
    (PDF, "patto.pdf", "application/pdf"), (JPEG, "scan.jpg", "image/jpeg"), (png(), "foto.png", "image/png"),
    (P7M, "patto.pdf.p7m", "application/pkcs7-mime")], ids=["pdf", "jpeg", "png", "p7m"])
def test_each_accepted_kind_is_uploaded_through_the_api_listed_and_downloaded_as_an_attachment(
        api, drafting, content, name, media):
    rossi = api("as.rossi")
    added = upload(rossi, drafting, content, name, protocollo_numero="2026/77", protocollo_data="19/11/2026")
    assert added.status_code == 201, added.text
    listed = rossi.get(f"{API}/casi/{drafting}/documenti").json()
    assert [(d["id"], d["tipo_file"], d["protocollo_numero"]) for d in listed] == \
        [(added.json()["documento"], media, "2026/77")]
    got = rossi.get(added.headers["location"])
    assert got.status_code == 200 and got.content == content and got.headers["content-type"].startswith(media)
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"


def test_an_html_page_renamed_pdf_is_refused_by_the_api_and_by_the_page(api, client_for, drafting):
    refused = upload(api("as.rossi"), drafting, HTML_AS_PDF, "patto.pdf")
    assert refused.status_code == 422
    assert refused.json()["errori"][0]["campo"] == "file"
    assert "tipo di file non ammesso" in refused.json()["errori"][0]["messaggio"]
    page = client_for("as.rossi")
    shown = page.post(f"/casi/{drafting}/documenti", files={"file": ("patto.pdf", HTML_AS_PDF, "application/pdf")},
                      data={"csrf_token": csrf_of(page, f"/casi/{drafting}"), "tipo": "patto_firmato"})
    assert shown.status_code == 422 and "tipo di file non ammesso" in html.unescape(shown.text)
    assert api("as.rossi").get(f"{API}/casi/{drafting}/documenti").json() == []


def test_an_oversized_file_is_refused_with_an_italian_message(api, drafting, setting):
    setting("LEGAMI_DOCUMENTS_MAX_BYTES", "2048")
    refused = upload(api("as.rossi"), drafting, PDF + b"0" * 8192)
    assert refused.status_code == 422
    assert refused.json()["errori"][0]["messaggio"] == "il file è troppo grande (8 KB): al massimo 2 KB"


def test_an_upload_may_exceed_the_general_body_cap_up_to_the_documents_own(api, drafting):
    big = PDF + b"%" + b"0" * (1536 * 1024)  # 1.5 MB: over LEGAMI_MAX_BODY_BYTES (1 MB), under the 10 MB cap
    assert upload(api("as.rossi"), drafting, big).status_code == 201
    assert api("as.rossi").post(f"{API}/casi/{drafting}/diario", content=b"x" * (1536 * 1024)).status_code == 413


def test_a_document_uploaded_on_the_case_page_is_listed_there_and_downloads_as_an_attachment(client_for, drafting):
    page = client_for("as.rossi")
    posted = page.post(f"/casi/{drafting}/documenti", follow_redirects=False,
                       files={"file": ("ISEE 2026.pdf", PDF, "application/pdf")},
                       data={"csrf_token": csrf_of(page, f"/casi/{drafting}"), "tipo": "isee",
                             "classe": "sociale", "protocollo_numero": "2026/0012345",
                             "protocollo_data": "18/11/2026"})
    assert posted.status_code == 303, posted.text
    shown = html.unescape(page.get(posted.headers["location"]).text)
    assert "ISEE 2026.pdf" in shown and "n. 2026/0012345 del 18/11/2026" in shown and "Attestazione ISEE" in shown
    link = f"/casi/{drafting}/documenti/"
    doc_id = int(shown.split(link, 1)[1].split('"', 1)[0])
    got = page.get(f"{link}{doc_id}")
    assert got.content == PDF and got.headers["content-disposition"].startswith("attachment;")
    assert page.get(f"/casi/{drafting + 1000}/documenti/{doc_id}").status_code == 404


def test_activation_is_refused_without_the_signed_patto_and_accepted_with_it(
        api, client_for, drafting, documents_required):
    page = html.unescape(client_for("as.rossi").get(f"/casi/{drafting}").text)
    assert "Documenti richiesti per «Firma e attivazione del patto»" in page
    assert "Patto firmato: <strong>manca</strong>" in page
    rossi = api("as.rossi")
    data = {"dati": patto_firmato(start="01/12/2026", end="31/05/2027") | {"firmato_il": "19/11/2026"}}
    refused = rossi.post(f"{API}/casi/{drafting}/transizioni/attiva", json=data)
    assert refused.status_code == 422, refused.text
    assert "manca il documento richiesto «Patto firmato»" in refused.json()["detail"]
    assert upload(rossi, drafting, PDF, "patto firmato.pdf").status_code == 201
    assert "Patto firmato: caricato" in html.unescape(client_for("as.rossi").get(f"/casi/{drafting}").text)
    done = rossi.post(f"{API}/casi/{drafting}/transizioni/attiva", json=data)
    assert done.status_code == 200, done.text
    assert done.json()["stato"] == "ACTIVE"


# ----------------------------------------------------------------------------- signatures (services/signatures.py)


def test_a_pades_signed_patto_is_verified_on_upload_and_its_signer_shown(api, client_for, drafting):
    added = upload(api("as.rossi"), drafting, signed_patto_pdf(), "patto firmato.pdf")
    assert added.status_code == 201, added.text
    firma = api("as.rossi").get(f"{API}/casi/{drafting}/documenti").json()[0]["firma"]
    assert (firma["formato"], firma["integra"], firma["firmatario"], firma["codice_fiscale"], firma["fiducia"]) == \
        ("PAdES", True, SIGNER_NAME, SIGNER_CF, "non verificata")
    page = html.unescape(client_for("as.rossi").get(f"/casi/{drafting}").text)
    assert "firma integra" in page and f"{SIGNER_NAME} ({SIGNER_CF})" in page and "fiducia: non verificata" in page


def test_a_signed_patto_altered_after_signing_is_reported_and_does_not_let_the_patto_start(
        api, client_for, drafting, documents_required):
    altered = tamper(signed_patto_pdf(), b"Patto per", b"Pacco per")
    assert upload(api("as.rossi"), drafting, altered, "patto firmato.pdf").status_code == 201
    firma = api("as.rossi").get(f"{API}/casi/{drafting}/documenti").json()[0]["firma"]
    assert firma["integra"] is False and "alterato" in firma["dettaglio"]
    assert "documento alterato dopo la firma" in html.unescape(client_for("as.rossi").get(f"/casi/{drafting}").text)
    data = {"dati": patto_firmato(start="01/12/2026", end="31/05/2027") | {"firmato_il": "19/11/2026"}}
    refused = api("as.rossi").post(f"{API}/casi/{drafting}/transizioni/attiva", json=data)
    assert refused.status_code == 422 and "manca il documento richiesto «Patto firmato»" in refused.json()["detail"]


def test_a_p7m_is_typed_by_the_document_it_envelops(api, drafting):
    rossi = api("as.rossi")
    added = upload(rossi, drafting, signed_patto_p7m(), "patto.pdf.p7m")
    assert added.status_code == 201, added.text
    listed = rossi.get(f"{API}/casi/{drafting}/documenti").json()
    assert [(d["tipo_file"], d["firma"]["formato"], d["firma"]["integra"]) for d in listed] == \
        [("application/pkcs7-mime", "CAdES", True)]
    page_inside = upload(rossi, drafting, cades_sign(b"<!DOCTYPE html><html></html>", default_pki()), "x.p7m")
    assert page_inside.status_code == 422
    assert "il documento firmato contiene un file non ammesso" in page_inside.json()["errori"][0]["messaggio"]


def test_a_health_document_is_hidden_from_csc_and_each_read_by_the_owner_is_logged(api, drafting, web_engine):
    added = upload(api("as.rossi"), drafting, PDF, "certificato.pdf", tipo="certificato", classe="sanitario")
    assert added.status_code == 201, added.text
    doc = added.json()["documento"]
    csc = api("csc.bianchi")
    assert csc.get(f"{API}/casi/{drafting}/documenti").json() == []
    assert csc.get(f"{API}/documenti/{doc}").status_code == 403
    assert api("as.rossi").get(f"{API}/documenti/{doc}").content == PDF
    logged = [r for r in health_reads(web_engine, username="as.rossi") if r["contesto"] == "documento scaricato"]
    assert [r["campi"] for r in logged] == [[f"documento:{doc}"]]
    assert health_reads(web_engine, username="csc.bianchi") == []


def test_out_of_scope_nobody_uploads_lists_or_downloads(api, drafting):
    doc = upload(api("as.rossi"), drafting, PDF).json()["documento"]
    verdi = api("as.verdi")  # a social worker of Pandino
    assert upload(verdi, drafting, PDF).status_code == 403
    assert verdi.get(f"{API}/casi/{drafting}/documenti").status_code == 403
    assert verdi.get(f"{API}/documenti/{doc}").status_code == 403
    assert api("as.rossi").get(f"{API}/documenti/{doc + 999}").status_code == 404


def test_the_cli_adds_lists_and_gets_a_document_with_json(db_url, web_engine, drafting, setting, tmp_path):
    from cli.main import app
    from store.db import cached_engine

    setting("LEGAMI_DATABASE_URL", db_url)
    cached_engine.cache_clear()
    source = tmp_path / "patto.pdf"
    source.write_bytes(PDF)
    run = CliRunner().invoke
    added = run(app, ["documenti", "add", str(drafting), str(source), "--tipo", "patto_firmato",
                      "--actor", "as.rossi", "--json"])
    assert added.exit_code == 0, added.output
    doc = json.loads(added.output)["documento"]
    listed = run(app, ["documenti", "list", str(drafting), "--actor", "as.rossi", "--json"])
    assert [d["id"] for d in json.loads(listed.output)] == [doc]
    target = tmp_path / "copia.pdf"
    got = run(app, ["documenti", "get", str(doc), str(target), "--actor", "as.rossi", "--json"])
    assert got.exit_code == 0, got.output
    assert target.read_bytes() == PDF
    refused = run(app, ["documenti", "list", str(drafting), "--actor", "as.verdi"])
    assert refused.exit_code != 0
    cached_engine(db_url).dispose()
    cached_engine.cache_clear()


def test_the_activation_form_posted_without_the_signed_patto_says_what_is_missing(client_for, drafting,
                                                                                  documents_required):
    page = client_for("as.rossi")
    token = csrf_of(page, f"/casi/{drafting}")
    for headers in ({}, {"HX-Request": "true"}):  # the plain form and its htmx swap
        refused = page.post(f"/casi/{drafting}/transizioni/attiva", headers=headers, follow_redirects=False,
                            data={"csrf_token": token, "efficace_il": "19/11/2026"})
        assert refused.status_code == 422, refused.text[:300]
        assert "manca il documento richiesto «Patto firmato»" in html.unescape(refused.text)
