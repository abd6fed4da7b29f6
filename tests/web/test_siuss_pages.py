"""The Ufficio di Piano's SIUSS page on both databases: the flows with their content counts and outcomes, each
flow's XML downloadable; refused to every other role (page, download and menu alike)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.access import principal_for
from services.siuss import export, record_outcomes
from services.siuss_xml import problems

OPERATOR = "RSSMRA80A01H501U"


@pytest.fixture
def flow(world, web_engine):
    office = principal_for(web_engine, "udp.neri")
    result = export(web_engine, office, "2026-11", now=datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
                    operator_cf=OPERATOR)
    assert result.name is not None, "the world has a granted benefit to send"
    record_outcomes(web_engine, office, {"elenco_esiti": [{"id_flusso": result.name, "codice_esito": "DATI_NON_TROVATI",
                                                           "descrizione_esito": "Beneficiario non trovato"}]})
    return result


def test_the_planning_office_sees_its_flows_counts_and_outcomes_and_downloads_the_xml(client_for, flow):
    client = client_for("udp.neri")
    page = client.get("/siuss")
    assert page.status_code == 200
    assert flow.name in page.text and 'href="/siuss"' in page.text  # listed, and in the menu
    assert f'data-respinte="{flow.inserts + flow.cancels}"' in page.text
    assert 'data-testid="mappatura-provvisoria"' in page.text and "A1.11" in page.text
    assert "Domanda FNA Misura B2: Mobilita, DisturbiComportamentali, AreaReddituale" in page.text
    download = client.get(f"/siuss/flussi/{flow.flow_id}/xml")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/xml")
    assert f'filename="{flow.name}.xml"' in download.headers["content-disposition"]
    assert download.text == flow.xml and problems(download.text) == []
    assert client.get("/siuss/flussi/999999/xml").status_code == 404


@pytest.mark.parametrize("username", ["as.rossi", "coord.crema", "csc.bianchi"])
def test_every_other_role_is_refused_the_page_the_download_and_the_menu_entry(client_for, flow, username):
    client = client_for(username)
    assert client.get("/siuss").status_code == 403
    refused = client.get(f"/siuss/flussi/{flow.flow_id}/xml")
    assert refused.status_code == 403 and flow.name not in refused.text
    assert 'href="/siuss"' not in client.get("/profilo").text


def test_an_outcome_shows_on_the_case_page_of_whoever_reads_the_case(client_for, flow, web_engine):
    import sqlalchemy as sa

    from domain.access import can_read_case
    from services.access import case_ref
    from store.tables import siuss_item_t

    coordinator = principal_for(web_engine, "coord.crema")
    with web_engine.connect() as conn:
        cases = conn.execute(sa.select(siuss_item_t.c.case_id).where(siuss_item_t.c.flow_id == flow.flow_id)).scalars()
        case_id = next(c for c in cases if can_read_case(coordinator, case_ref(conn, c, date(2026, 11, 30))))
    page = client_for("coord.crema").get(f"/casi/{case_id}")
    assert page.status_code == 200
    assert "Esito del Casellario dell&#39;Assistenza (INPS)" in page.text or \
        "Esito del Casellario dell'Assistenza (INPS)" in page.text
    assert "DATI_NON_TROVATI" in page.text and "Beneficiario non trovato" in page.text
