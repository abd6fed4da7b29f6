"""Every input bounded, the same at every entrance: each finding of issue 11 («unbounded input is stored for
ever») as a sentence, on the pages and on the API. Each test runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import html

from domain.bounds import MOTIVO_MAX
from tests.integration.patto_steps import MONITORAGGIO
from tests.web.conftest import csrf_of
from tests.web.test_api import API, api
from tests.web.test_case_pages import snapshot


def _fire_form(client, case_id: int, name: str, data: dict):
    form = {"csrf_token": csrf_of(client, f"/casi/{case_id}"), **data}
    return client.post(f"/casi/{case_id}/transizioni/{name}", data=form, follow_redirects=False)


def _is_italian_page(response) -> bool:
    return response.headers["content-type"].startswith("text/html") and 'lang="it"' in response.text


def test_a_ten_mebibyte_field_through_the_api_is_refused_with_413_and_nothing_is_written(app, web_engine, world):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    r = api(app, "as.rossi").post(f"{API}/casi/{case}/transizioni/registra_monitoraggio",
                                  json={"dati": {**MONITORAGGIO, "avanzamento": "x" * (10 * 1024 * 1024)}})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("richiesta troppo grande")
    assert snapshot(web_engine, case) == before


def test_a_long_field_under_the_body_cap_is_refused_by_its_declared_bound(app, web_engine, world):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    r = api(app, "as.rossi").post(f"{API}/casi/{case}/transizioni/registra_monitoraggio",
                                  json={"dati": {**MONITORAGGIO, "avanzamento": "x" * 100_000}})
    assert r.status_code == 422
    errors = {e["campo"]: e["messaggio"] for e in r.json()["errori"]}
    assert errors["avanzamento"].startswith("può contenere al massimo")
    assert snapshot(web_engine, case) == before


def test_the_form_and_the_api_refuse_the_same_overlong_reason(app, web_engine, world, client_for):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    page = _fire_form(client_for("as.rossi"), case, "sospendi", {"motivo": "x" * (MOTIVO_MAX + 1)})
    assert page.status_code == 422
    assert f"può contenere al massimo {MOTIVO_MAX} caratteri" in html.unescape(page.text)
    r = api(app, "as.rossi").post(f"{API}/casi/{case}/transizioni/sospendi", json={"motivo": "x" * (MOTIVO_MAX + 1)})
    assert r.status_code == 422
    assert [e["campo"] for e in r.json()["errori"]] == ["motivo"]
    huge = _fire_form(client_for("as.rossi"), case, "sospendi", {"motivo": "x" * 1_000_000})
    assert huge.status_code in (413, 422) and _is_italian_page(huge)
    assert snapshot(web_engine, case) == before


def test_a_nul_byte_is_an_italian_422_naming_the_field_on_both_databases(app, web_engine, world, client_for):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    r = api(app, "as.rossi").post(f"{API}/casi/{case}/transizioni/registra_monitoraggio",
                                  json={"dati": {**MONITORAGGIO, "avanzamento": "rego\u0000lare"}})
    assert r.status_code == 422
    assert {"campo": "avanzamento", "etichetta": "Andamento del patto",
            "messaggio": "contiene un carattere di controllo non ammesso (U+0000)"} in r.json()["errori"]
    reason = api(app, "as.rossi").post(f"{API}/casi/{case}/transizioni/sospendi", json={"motivo": "rico\u0000vero"})
    assert reason.status_code == 422 and reason.json()["errori"][0]["campo"] == "motivo"
    page = _fire_form(client_for("as.rossi"), case, "registra_monitoraggio",
                      {**MONITORAGGIO, "avanzamento": "rego\x00lare"})
    assert page.status_code == 422 and "carattere di controllo" in html.unescape(page.text)
    assert snapshot(web_engine, case) == before


def test_a_date_of_year_one_and_an_amount_of_minus_zero_are_refused(app, web_engine, world):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    rossi = api(app, "as.rossi")
    r = rossi.post(f"{API}/casi/{case}/transizioni/registra_monitoraggio",
                   json={"dati": {**MONITORAGGIO, "incontro_il": "0001-01-01"}})
    assert r.status_code == 422
    assert {e["campo"]: e["messaggio"] for e in r.json()["errori"]}["incontro_il"] == \
        "la data deve cadere tra il 1900 e il 2100"
    r = rossi.post(f"{API}/casi/{case}/transizioni/registra_monitoraggio",
                   json={"dati": {**MONITORAGGIO, "importo_erogato": "-0"}})
    assert r.status_code == 422
    assert "zero" in {e["campo"]: e["messaggio"] for e in r.json()["errori"]}["importo_erogato"]
    assert snapshot(web_engine, case) == before


def test_ids_past_the_integer_range_are_a_404_in_italian(app, world, client_for):
    client = client_for("as.rossi")
    for path in ("/casi/99999999999999999999", "/casi/2147483648", "/ente/casi/9223372036854775808",
                 "/fna/bandi/99999999999999999999"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert _is_italian_page(page), path
    r = api(app, "as.rossi").get(f"{API}/casi/99999999999999999999")
    assert r.status_code == 404
    assert r.json()["detail"] == "caso inesistente"


def test_a_page_with_a_malformed_id_or_an_unknown_path_answers_an_italian_page(world, client_for):
    client = client_for("as.rossi")
    for path in ("/casi/abc", "/non-esiste"):
        page = client.get(path)
        assert page.status_code == 404 and _is_italian_page(page), (path, page.text[:200])
        assert "Not Found" not in page.text and "detail" not in page.text


def test_a_day_of_year_one_in_the_outbox_filter_is_an_italian_error(world, client_for):
    page = client_for("udp.admin").get("/admin/posta", params={"giorno": "01/01/0001"})
    assert page.status_code == 422 and _is_italian_page(page)
    assert "tra il 1900 e il 2100" in html.unescape(page.text)


def test_a_form_field_over_one_mebibyte_is_a_413_italian_page(world, client_for):
    client = client_for("as.rossi")
    case = world["patto_crema"]
    token = csrf_of(client, f"/casi/{case}")
    page = client.post(f"/casi/{case}/transizioni/sospendi", follow_redirects=False,
                       files={"motivo": (None, "x" * (2 * 1024 * 1024))}, data={"csrf_token": token})
    assert page.status_code == 413 and _is_italian_page(page)
    assert "troppo grande" in html.unescape(page.text)
