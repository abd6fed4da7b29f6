"""Across Ambiti (issue 15 items 1-2), on SQLite and PostgreSQL, with Cremasco's district world and a Lodi case:
the regional reader sees both Ambiti's indicators per distretto, small cells hidden, and no case; the instance
administrator lists the Ambiti and opens Lodi's set-up (three distretti, two aziende, provisional labels); a Lodi
reader's dashboard breaks down by distretto and by managing body."""
from __future__ import annotations

import re
from html import unescape

import pytest

from .test_ambiti_entrances import two_worlds  # noqa: F401  (the fixture: Cremasco's world and a Lodi case)


@pytest.fixture
def low_threshold(tmp_path, monkeypatch):
    """The instance's tallies.toml with a threshold of 2 people: Cremasco's cells show, Lodi's one case is hidden."""
    (tmp_path / "tallies.toml").write_text("soglia_riservatezza = 2\n", encoding="utf-8")
    monkeypatch.setenv("LEGAMI_CONFIG_DIR", str(tmp_path))


def _referrals(body: dict) -> dict[str, dict]:
    (referrals,) = [i for i in body["indicatori"] if i["codice"] == "patti_segnalazioni"]
    return {a["ambito"]: a for a in referrals["ambiti"]}


def test_the_regional_reader_sees_both_ambiti_by_distretto_with_small_cells_hidden(client_for, two_worlds,
                                                                                   low_threshold):
    response = client_for("reg.lettore").get("/api/v1/regione/indicatori", params={"anno": 2026})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {a["codice"] for a in body["ambiti"]} == {"cremasco", "lodi"} and body["soglia_riservatezza"] == 2
    lodi = next(a for a in body["ambiti"] if a["codice"] == "lodi")
    assert set(lodi["distretti"]) == {"Lodi", "Sant'Angelo Lodigiano", "Casalpusterlengo-Codogno"}
    cells = _referrals(body)
    assert cells["cremasco"]["totale"] == {"valore": 3, "n": 3, "soppresso": False}  # three patti in the world
    assert cells["lodi"]["totale"] == {"valore": None, "n": None, "soppresso": True}  # one person: hidden
    assert [(d["chiave"], d["soppresso"], d["valore"]) for d in cells["lodi"]["distretti"]] == [("Lodi", True, None)]


def test_the_regional_page_shows_every_ambito_and_the_hidden_cells_as_such(client_for, two_worlds, low_threshold):
    page = client_for("reg.lettore").get("/regione?anno=2026")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Ambito di Lodi" in text or "Lodi" in text
    assert 'data-testid="totale-cremasco"' in text and 'data-testid="totale-lodi"' in text
    assert "n<2" in text and "Rossi" not in text  # the Lodi case's surname is nowhere


def test_the_regional_reader_reads_no_case_of_either_ambito_nor_any_ambito_s_dashboard(client_for, two_worlds):
    client = client_for("reg.lettore")
    every_case = two_worlds["cremasco"] | two_worlds["lodi"]
    assert client.get("/api/v1/casi").json() == [] and client.get("/api/v1/scadenze").json() == []  # as the OdV's
    for case_id in sorted(every_case):
        assert client.get(f"/api/v1/casi/{case_id}").status_code == 403
        assert client.get(f"/casi/{case_id}").status_code == 403
    for path in ("/oggi", "/casi", "/cruscotto", "/api/v1/indicatori", "/casi/esporta?formato=csv", "/ambiti"):
        assert client.get(path).status_code == 403, path
    refused = client.get("/casi")
    assert "consulta solo dati aggregati per Ambito" in unescape(refused.text)


def test_only_the_regional_reader_opens_the_regional_indicators(client_for, two_worlds):
    for username in ("udp.neri", "udp.lodi", "ovd.valutatore", "udp.admin"):
        client = client_for(username)
        assert client.get("/api/v1/regione/indicatori").status_code == 403, username
        refused = client.get("/regione")
        assert refused.status_code == 403 and "riservati al lettore regionale" in unescape(refused.text), username


def test_the_instance_administrator_lists_the_ambiti_and_sees_lodi_s_distretti_and_aziende(client_for, two_worlds):
    client = client_for("udp.admin")
    listing = unescape(client.get("/ambiti").text)
    assert 'href="/ambiti/lodi"' in listing and 'href="/ambiti/cremasco"' in listing
    page = client.get("/ambiti/lodi")
    assert page.status_code == 200
    text = unescape(page.text)
    for distretto in ("Lodi: ", "Sant'Angelo Lodigiano: ", "Casalpusterlengo-Codogno: "):
        assert distretto in text, distretto
    assert "Azienda Speciale di Casalpusterlengo" in text and "Azienda Speciale Consortile" in text
    assert "7 comuni" in text and 'data-testid="provvisorio"' in text and "obligations.toml" in text
    assert client.get("/ambiti/nessuno").status_code == 404


def test_nobody_but_the_instance_administrator_opens_an_ambito_s_page(client_for, two_worlds):
    for username in ("udp.neri", "udp.lodi", "reg.lettore", "coord.crema"):
        client = client_for(username)
        assert client.get("/ambiti").status_code == 403, username
        refused = client.get("/ambiti/lodi")
        assert refused.status_code == 403 and "amministratore dell'istanza" in unescape(refused.text), username


def test_a_lodi_reader_s_dashboard_breaks_down_by_distretto_and_by_managing_body(client_for, two_worlds,
                                                                                low_threshold, web_engine):
    from datetime import date

    from services.cases import CaseService
    from tests.integration.patto_steps import segnalazione

    from .conftest import NOW

    service = CaseService(web_engine, clock=lambda: NOW)
    service.open_case(case_type="patto", actor=service.actor("as.lodi"), comune_istat="098010",  # Casalpusterlengo
                      effective_at=date(2026, 2, 2), data=segnalazione(surname="Conti", name="Luca"))
    client = client_for("udp.lodi")

    def columns(per: str) -> set[str]:
        page = client.get("/cruscotto", params={"anno": 2026, "per": per})
        assert page.status_code == 200, page.text
        return set(re.findall(r'<th scope="col" class="text-end">([^<]+)</th>', unescape(page.text)))

    assert {"Lodi", "Casalpusterlengo-Codogno"} <= columns("distretto")
    assert {"Azienda Speciale di Casalpusterlengo", "Azienda Speciale Consortile servizi alla persona"} \
        <= columns("ente_gestore")
    api = client.get("/api/v1/indicatori", params={"anno": 2026, "per": "ente_gestore"}).json()
    (referrals,) = [i for i in api["indicatori"] if i["codice"] == "patti_segnalazioni"]
    assert api["per"] == "ente_gestore" and {r["chiave"] for r in referrals["righe"]} == {"ASC_LODIGIANO",
                                                                                          "AS_CASALPUSTERLENGO"}
    assert client_for("coord.crema").get("/cruscotto", params={"per": "distretto"}).status_code == 403
