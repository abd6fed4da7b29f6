"""Exports (issue 14 item 2, DOMAIN.md §15), on both databases: the list of /casi as CSV and XLSX holds exactly the
reader's scope with the person only where the role sees identity data; a formula typed into a name is neutralised;
the yearly report downloads for the Ufficio di Piano and the evaluator and is refused to a social worker; a case's
PDF summary for a reader, refused out of scope, its health read logged."""
from __future__ import annotations

import base64
import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from domain.access import FieldClass, can_read_case, visible_fields
from reports.case_list import COLUMNS, case_list_csv
from services.access import case_ref, health_reads, principal_for
from store.tables import AppUser
from tests.web.conftest import NOW, PASSWORD

TODAY = NOW.date()
CSV_TYPE, XLSX_TYPE = "text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == CSV_TYPE
    assert response.content.startswith("\ufeff".encode())  # UTF-8 with BOM, for Italian Excel
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, r)) for r in rows[1:]]


def xlsx_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, r)) for r in rows[1:]]


def expected(engine, world: dict[str, int], username: str) -> dict[int, str | None]:
    """{case id: codice fiscale shown or None} of the world's cases the rule lets `username` read."""
    from services.queries import case_detail

    principal = principal_for(engine, username)
    out = {}
    with engine.connect() as conn:
        for case_id in world.values():
            ref = case_ref(conn, case_id, TODAY)
            if can_read_case(principal, ref):
                person = case_detail(engine, case_id)["persona"]
                out[case_id] = person["codice_fiscale"] if person and FieldClass.IDENTITY in visible_fields(
                    principal, ref) else None
    return out


def shown(rows: list[dict]) -> dict[int, str | None]:
    return {int(r["Caso n."]): (r["Codice fiscale"] or None) for r in rows}


# ----------------------------------------------------------------------------- the case list


@pytest.mark.parametrize("username", ["as.rossi", "coord.pandino", "csc.bianchi", "ente.girasole"])
def test_the_case_list_files_hold_exactly_the_readers_scope_and_what_their_role_sees(
        username, world, web_engine, client_for):
    page = client_for(username)
    want = expected(web_engine, world, username)
    from_csv = csv_rows(page.get("/casi/esporta", params={"formato": "csv"}))
    from_xlsx = xlsx_rows(page.get("/casi/esporta", params={"formato": "xlsx"}))
    from_api = csv_rows(TestClient(page.app, headers=basic(username)).get("/api/v1/esportazioni/casi"))
    assert shown(from_csv) == want
    assert shown(from_api) == want
    assert {r["Caso n."]: r["Codice fiscale"] for r in from_xlsx} == want
    listed = page.get("/casi", params={"limit": 1000}).text  # and what the page lists, in the same order
    assert [int(r["Caso n."]) for r in from_csv] == [int(x) for x in _page_ids(listed)]


def _page_ids(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-caso="(\d+)">', html)


def test_two_roles_files_differ_exactly_by_scope_and_redaction(world, web_engine, client_for):
    worker = shown(csv_rows(client_for("as.rossi").get("/casi/esporta", params={"formato": "csv"})))
    coordinator = shown(csv_rows(client_for("coord.pandino").get("/casi/esporta", params={"formato": "csv"})))
    assert world["patto_crema"] in worker and world["patto_crema"] not in coordinator
    assert world["patto_pandino"] in coordinator and world["patto_pandino"] not in worker
    assert set(worker) ^ set(coordinator) == (set(expected(web_engine, world, "as.rossi"))
                                              ^ set(expected(web_engine, world, "coord.pandino")))


def test_the_export_keeps_the_filters_of_the_page_and_the_evaluator_is_refused(world, client_for):
    page = client_for("as.rossi")
    only_sad = csv_rows(page.get("/casi/esporta", params={"formato": "csv", "tipo": "sad_caso"}))
    assert {int(r["Caso n."]) for r in only_sad} == {world["sad_ente01"], world["sad_ente02"]}
    assert {r["Tipo"] for r in only_sad} == {"SAD"} or len({r["Tipo"] for r in only_sad}) == 1
    searched = csv_rows(page.get("/casi/esporta", params={"formato": "csv", "q": "Colombo"}))
    assert [int(r["Caso n."]) for r in searched] == [world["sad_ente01"]]
    wrong = page.get("/casi/esporta", params={"formato": "pdf"})
    assert wrong.status_code == 422 and "Formato" in wrong.text
    assert client_for("ovd.valutatore").get("/casi/esporta", params={"formato": "csv"}).status_code == 403
    listing = page.get("/casi", params={"tipo": "sad_caso"}).text
    assert "/casi/esporta?tipo=sad_caso&amp;formato=xlsx" in listing


def test_a_formula_typed_into_a_name_is_neutralised_in_the_csv_and_stays_text_in_the_xlsx(
        world, web_engine, client_for):
    formula = '=HYPERLINK("http://example.org";"Rossi")'
    with web_engine.begin() as conn:
        conn.execute(sa.update(AppUser.__table__).where(AppUser.__table__.c.username == "as.rossi")
                     .values(full_name=formula))
    page = client_for("coord.crema")
    rows = csv_rows(page.get("/casi/esporta", params={"formato": "csv", "tipo": "patto"}))
    assignees = {r["Assegnatario"] for r in rows if int(r["Caso n."]) == world["patto_crema"]}
    assert assignees == {"'" + formula}
    cells = xlsx_rows(page.get("/casi/esporta", params={"formato": "xlsx", "tipo": "patto"}))
    assert formula in {r["Assegnatario"] for r in cells}  # a text cell, not a formula (openpyxl reads it back)


def test_every_formula_prefix_gets_an_apostrophe_and_plain_numbers_stay():
    text = "".join(case_list_csv([(1, "=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\ry", "-3", "+1,5", None)]))
    line = text.split("\r\n")[1]
    assert line.split(";")[:9] == ["1", "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\ry", "-3", "+1,5"] \
        or '"' in line  # the CR cell is quoted by the csv module
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"))
    assert rows[1][:9] == ["1", "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\ry", "-3", "+1,5"]


# ----------------------------------------------------------------------------- the yearly report


def test_the_report_downloads_for_the_planning_office_and_the_evaluator_and_is_refused_to_a_social_worker(
        world, client_for, app):
    planning = client_for("udp.neri")
    assert "/relazione" in planning.get("/profilo").text  # in the menu
    assert planning.get("/relazione").status_code == 200
    pdf = planning.get("/relazione/scarica", params={"anno": 2026, "formato": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    xlsx = planning.get("/relazione/scarica", params={"anno": 2026, "formato": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    report = planning.get("/relazione/scarica", params={"anno": 2026, "formato": "csv"})
    assert report.status_code == 200 and report.content.startswith("\ufeffcodice;etichetta".encode())
    evaluator = TestClient(app, headers=basic("ovd.valutatore"))
    assert evaluator.get("/api/v1/relazione", params={"anno": 2026, "formato": "csv"}).content == report.content
    worker = client_for("as.rossi")
    assert worker.get("/relazione").status_code == 403
    refused = worker.get("/relazione/scarica", params={"anno": 2026, "formato": "pdf"})
    assert refused.status_code == 403 and "Ufficio di Piano" in refused.text
    api = TestClient(app, headers=basic("as.rossi")).get("/api/v1/relazione", params={"anno": 2026})
    assert api.status_code == 403 and "Organismo di Valutazione" in api.json()["detail"]


# ----------------------------------------------------------------------------- a case's PDF summary


def pdf_text(response) -> str:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def test_a_reader_gets_the_case_summary_and_out_of_scope_it_is_refused(world, client_for, app):
    page = client_for("as.rossi")
    text = pdf_text(page.get(f"/casi/{world['patto_crema']}/riepilogo.pdf"))
    assert f"Caso n. {world['patto_crema']}" in text and "Storia" in text
    assert page.get(f"/casi/{world['patto_pandino']}/riepilogo.pdf").status_code == 403
    api = TestClient(app, headers=basic("as.verdi"))
    assert api.get(f"/api/v1/casi/{world['patto_crema']}/riepilogo.pdf").status_code == 403
    assert f"Caso n. {world['patto_pandino']}" in pdf_text(api.get(f"/api/v1/casi/{world['patto_pandino']}"
                                                                    "/riepilogo.pdf"))


def test_the_summary_shows_health_data_only_to_an_entitled_reader_and_logs_that_read(world, client_for, web_engine):
    case_id = world["fna"]
    assessor = pdf_text(client_for("asst.medici").get(f"/casi/{case_id}/riepilogo.pdf"))
    logs = [r for r in health_reads(web_engine, username="asst.medici") if r["contesto"] == "riepilogo_pdf"]
    assert [r["caso"] for r in logs] == [case_id] and logs[0]["campi"]
    csc = pdf_text(client_for("csc.bianchi").get(f"/casi/{case_id}/riepilogo.pdf"))
    assert "Non visibili al ruolo" in csc and "sanitari" in csc.lower()
    assert [r for r in health_reads(web_engine, username="csc.bianchi") if r["contesto"] == "riepilogo_pdf"] == []
    assert "accompagnamento" in assessor.lower() and "accompagnamento" not in csc.lower()


def test_the_dashboard_shows_each_sub_ambitos_range_band_and_projection(world, client_for):
    board = client_for("udp.neri").get("/cruscotto", params={"anno": 2026}).text
    assert "Range del sub-ambito" in board and "Esito e proiezione a fine anno" in board
    assert board.count('data-testid="range-sub-ambito"') >= 2  # Crema and Pandino rows at least


def test_the_api_indicators_carry_each_sub_ambitos_target(world, app):
    body = TestClient(app, headers=basic("udp.neri")).get("/api/v1/indicatori", params={"anno": 2026}).json()
    rows = {(i["codice"], r["chiave"]): r["obiettivo"] for i in body["indicatori"] if i["obiettivo"]
            for r in i["righe"]}
    assert rows and all(t is not None and {"min", "max", "esito", "proiezione_fine_anno", "esito_proiezione"} <= set(t)
                        for (_, area), t in rows.items() if area in ("Crema", "Pandino")), rows
