"""Rankings only as the rules compute them (issue 11 item 6), on SQLite and PostgreSQL, with the small call of
tests/web/test_fna_sad_pages.py (budget 10.000 €; ranking FNA-1 4.800, FNA-2 4.800, FNA-3 1.200, FNA-9 3.600,
FNA-10 2.400 €):

- the ranking steps take no positions from the client: the server computes them from the call's applications;
- funding follows the ranking: an application is funded only when every better-ranked one is funded or out;
- scorrimento: a funded applicant who withdraws frees the amount and the next in ranking becomes fundable, on
  the ranking page, the public ranking (page and CSV) and the API.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from domain.errors import GuardRefused
from services.cases import CaseService
from store.tables import transition_t

from .conftest import NOW, csrf_of
from .test_api import API, api
from .test_fna_sad_pages import _ranking_rows, _small_call, _table, fna_world  # noqa: F401  (fixture)

FINAL_DAY = date(2026, 9, 1)


def _publish_both(client, call: int) -> None:
    for fase, atto in (("provvisoria", "Determinazione UdP n. 41/2026"), ("definitiva", "Determinazione UdP n. 60/2026")):
        done = client.post(f"/fna/bandi/{call}/graduatoria", data={
            "csrf_token": csrf_of(client), "fase": fase, "atto": atto}, follow_redirects=False)
        assert done.status_code == 303, done.text


def _fund(service: CaseService, app: int, amount: str, on: date = FINAL_DAY) -> None:
    service.advance(case_id=app, transition="finanzia", actor=service.actor("udp.neri"), effective_at=on,
                    data={"importo_annuo": amount})


def _snapshot(engine, call: int, transition: str) -> dict:
    with engine.connect() as conn:
        return conn.execute(sa.select(transition_t.c.data).where(
            transition_t.c.case_id == call, transition_t.c.transition == transition)).scalar_one()


def test_funding_out_of_ranking_order_is_refused_with_the_application_that_comes_first(
        fna_world, client_for, web_engine):
    small = fna_world["small"]
    _publish_both(client_for("udp.neri"), small["call"])
    service = CaseService(web_engine, clock=lambda: NOW)
    with pytest.raises(GuardRefused) as refused:
        _fund(service, small["C"], "4800")  # FNA-2 before FNA-1
    assert "FNA-1" in str(refused.value) and "graduatoria" in str(refused.value)
    _fund(service, small["A"], "4800")
    _fund(service, small["C"], "4800")
    with pytest.raises(GuardRefused) as refused:
        _fund(service, small["B"], "400")  # FNA-9 jumps FNA-3, still waiting
    assert "FNA-3" in str(refused.value)


def test_a_withdrawal_after_funding_frees_the_amount_and_the_next_in_ranking_becomes_fundable(
        fna_world, client_for, web_engine, app):
    small, call = fna_world["small"], fna_world["small"]["call"]
    udp = client_for("udp.neri")
    _publish_both(udp, call)
    service = CaseService(web_engine, clock=lambda: NOW)
    _fund(service, small["A"], "4800")
    _fund(service, small["C"], "4800")
    for key in "DBE":  # 1.200 € more would pass the budget: the rest is not funded
        service.advance(case_id=small[key], transition="non_finanzia", actor=service.actor("udp.neri"),
                        effective_at=FINAL_DAY)
    service.advance(case_id=small["A"], transition="rinuncia", actor=service.actor("csc.bianchi"),
                    effective_at=date(2026, 10, 1), data={"dichiarazione_del": "30/09/2026"})

    page = udp.get(f"/fna/bandi/{call}/graduatoria")
    final = {r["protocollo"]: r for r in _ranking_rows(page.text, "definitiva")}
    assert [p for p, r in final.items() if r["finanziabile"]] == ["FNA-2", "FNA-3", "FNA-9"]
    table = _table(page.text, "graduatoria", "definitiva")
    assert "Rinuncia" in table
    assert "Finanziabili: € 9.600,00 su € 10.000,00" in page.text  # 4.800 (FNA-2) + 1.200 + 3.600: FNA-1's freed

    public = udp.get(f"/fna/bandi/{call}/graduatoria/pubblica")
    outcomes = dict(re_rows(_table(public.text, "graduatoria-pubblica")))
    assert outcomes == {"FNA-1": "Rinuncia", "FNA-2": "Finanziata", "FNA-3": "Finanziabile",
                        "FNA-9": "Finanziabile", "FNA-10": "Ammessa non finanziata"}
    csv_lines = udp.get(f"/fna/bandi/{call}/graduatoria/pubblica?formato=csv").text.strip().splitlines()
    assert csv_lines[1:3] == ["1;FNA-1;87;Rinuncia", "2;FNA-2;53;Finanziata"]
    assert csv_lines[3] == "3;FNA-3;45;Finanziabile"

    # scorrimento in order: FNA-9 waits for FNA-3; then both fit the freed 4.800 €; FNA-10 does not
    with pytest.raises(GuardRefused):
        _fund(service, small["B"], "3600", date(2026, 10, 2))
    _fund(service, small["D"], "1200", date(2026, 10, 2))
    _fund(service, small["B"], "3600", date(2026, 10, 2))
    with pytest.raises(GuardRefused) as refused:
        _fund(service, small["E"], "2400", date(2026, 10, 2))
    assert "budget del bando insufficiente: residuo € 400,00" in str(refused.value)
    shown = api(app, "udp.neri").get(f"{API}/casi/{small['A']}").json()
    assert (shown["stato"], shown["stato_etichetta"]) == ("WITHDRAWN", "Rinuncia")
    public = udp.get(f"/fna/bandi/{call}/graduatoria/pubblica")
    assert dict(re_rows(_table(public.text, "graduatoria-pubblica")))["FNA-9"] == "Finanziata"


def test_the_api_publishes_the_ranking_the_rules_compute_and_refuses_positions_sent_by_the_client(
        fna_world, app, web_engine):
    small, call = fna_world["small"], fna_world["small"]["call"]
    udp = api(app, "udp.neri")
    forged = udp.post(f"{API}/casi/{call}/transizioni/pubblica_graduatoria_provvisoria", json={"dati": {
        "atto": "Determinazione UdP n. 41/2026",
        "posizioni": [{"domanda": fna_world["fna"],  # an application of another call
                       "protocollo": "=HYPERLINK(\"http://x\")", "punteggio": "999", "dettaglio": {}}]}})
    assert forged.status_code == 422, forged.text
    assert "posizioni" in forged.text and "non previsto" in forged.text
    done = udp.post(f"{API}/casi/{call}/transizioni/pubblica_graduatoria_provvisoria",
                    json={"dati": {"atto": "Determinazione UdP n. 41/2026"}})
    assert done.status_code == 200, done.text
    snap = _snapshot(web_engine, call, "pubblica_graduatoria_provvisoria")
    assert [p["protocollo"] for p in snap["posizioni"]] == ["FNA-1", "FNA-2", "FNA-3", "FNA-9", "FNA-10"]
    assert [p["domanda"] for p in snap["posizioni"]] == [small[k] for k in "ACDBE"]
    assert [str(p["punteggio"]) for p in snap["posizioni"]] == ["87", "53", "45", "45", "45"]
    assert snap["atto"] == "Determinazione UdP n. 41/2026"


def re_rows(table: str) -> list[tuple[str, str]]:
    """(protocol, outcome) of each row of the public ranking."""
    return re.findall(r'<th scope="row">([^<]+)</th>.*?<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]+)</td>', table, re.DOTALL)
