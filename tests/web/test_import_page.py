"""The import page (DOMAIN.md §15) on both databases: coordinators and the Ufficio di Piano download a type's template
and upload a file for a dry run or a load; the job's problems download as CSV; a social worker is refused the page,
a coordinator the district-level types; a job is seen only by whoever uploaded the file."""
from __future__ import annotations

import csv
import io
import time

import sqlalchemy as sa
from openpyxl import load_workbook

from domain.import_template import COMUNE, EXTERNAL_ID, STATE
from services.importing import template_columns
from store.tables import case_import_t, case_t
from tests.web.conftest import csrf_of

REFERRAL = {"Segnalazione · data del passo": "02/11/2026",
            "Segnalazione · Persona segnalata › Codice fiscale": "RSSMRA85T10A562S",
            "Segnalazione · Persona segnalata › Cognome": "Rossi", "Segnalazione · Persona segnalata › Nome": "Mario",
            "Segnalazione · Persona segnalata › Data di nascita": "10/12/1985",
            "Segnalazione · Fonte della segnalazione": "Caritas", "Segnalazione · Area di bisogno": "Economico"}


def patto_csv(*rows: dict[str, str]) -> bytes:
    headers = [c.header for c in template_columns("patto")[1]]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def upload(client, content: bytes, action: str, name: str = "patti.csv"):
    response = client.post("/importa", data={"csrf_token": csrf_of(client, "/importa"), "tipo": "patto",
                                             "azione": action},
                           files={"file": (name, content, "text/csv")}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def finished(client, url: str) -> str:
    for _ in range(200):
        page = client.get(url)
        if 'data-stato="in_corso"' not in page.text:
            return page.text
        time.sleep(0.05)
    raise AssertionError("importazione non terminata")


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_a_social_worker_is_refused_the_page_and_a_coordinator_the_district_registers(client_for):
    worker, coordinator = client_for("as.rossi"), client_for("coord.crema")
    assert worker.get("/importa").status_code == 403
    assert worker.get("/importa/modello/patto.xlsx").status_code == 403
    assert "/importa" in coordinator.get("/oggi").text
    assert coordinator.get("/importa/modello/fna_bando.xlsx").status_code == 403
    assert coordinator.get("/importa/modello/patto.xlsx").status_code == 200


def test_the_template_download_explains_each_column_and_lists_the_allowed_values(client_for):
    response = client_for("udp.neri").get("/importa/modello/patto.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["Dati", "Istruzioni"]
    headers = [c.value for c in next(book["Dati"].iter_rows(max_row=1))]
    assert headers[:3] == [EXTERNAL_ID, STATE, COMUNE]
    assert any(v.formula1.startswith("Valori!") for v in book["Dati"].data_validations.dataValidation)
    explained = {row[0] for row in book["Istruzioni"].iter_rows(min_row=5, values_only=True)}
    assert set(headers) <= explained


def test_a_dry_run_on_the_page_reports_the_problems_as_a_csv_and_writes_nothing(client_for, web_engine):
    coordinator = client_for("coord.crema")
    bad = {**REFERRAL, EXTERNAL_ID: "P-1", STATE: "Segnalato", COMUNE: "Crema",
           "Segnalazione · Fonte della segnalazione": "la nonna"}
    url = upload(coordinator, patto_csv(bad), "prova")
    page = finished(coordinator, url)
    assert "nessun caso è stato importato" in page and "valore «la nonna» non ammesso" in page
    report = coordinator.get(url + "/problemi.csv").content.decode("utf-8-sig")
    assert report.startswith("Riga;Colonna;Problema") and "2;Segnalazione · Fonte della segnalazione;" in report
    assert client_for("udp.neri").get(url).status_code == 404  # the job is its uploader's
    assert count(web_engine, case_t) == 0 and count(web_engine, case_import_t) == 0


def test_a_load_on_the_page_imports_the_file_once(client_for, web_engine):
    planner = client_for("udp.neri")
    good = {**REFERRAL, EXTERNAL_ID: "P-2", STATE: "Segnalato", COMUNE: "Crema"}
    before = count(web_engine, case_t)
    page = finished(planner, upload(planner, patto_csv(good), "carica"))
    assert "Casi importati: 1 (righe del file: 1)" in page
    assert count(web_engine, case_t) == before + 1
    again = finished(planner, upload(planner, patto_csv(good), "carica"))
    assert "1 già importati, saltati" in again and count(web_engine, case_t) == before + 1
