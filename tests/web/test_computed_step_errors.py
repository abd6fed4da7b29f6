"""A step whose data Legami computes (the FNA call's ranking snapshot: `computed_data`) refuses bad computed data
the way it refuses bad typed data: an Italian 422 (API) or an Italian error (CLI) naming the field, nothing written,
never pydantic's English text. On SQLite and PostgreSQL.

The bad data: an application whose protocol number was stored before the bounds of issue 11 item 3 (a control
character in it), which the ranking copies into the snapshot it publishes.
"""
from __future__ import annotations

import base64
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from config.settings import get_settings
from services.cases import CaseService
from store.db import cached_engine
from store.tables import case_t, transition_t

from .conftest import NOW, PASSWORD

API = "/api/v1"
STEP = "pubblica_graduatoria_provvisoria"
LABEL = "Posizione 1 › Protocollo"  # a row of records is named by its declared title, as on the forms


@pytest.fixture
def closed_call(world, web_engine):
    """The world's call closed, its application admitted, and that application's protocol as an old import left
    it: with a control character (U+0007) no form or API accepts any more."""
    service = CaseService(web_engine, clock=lambda: NOW)
    service.advance(case_id=world["bando"], transition="chiudi", actor=service.actor("udp.neri"),
                    effective_at=date(2026, 7, 11))
    service.advance(case_id=world["fna"], transition="ammetti", actor=service.actor("as.rossi"),
                    effective_at=date(2026, 7, 20),
                    data={"adl": 4, "iadl": 5, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})
    with web_engine.begin() as conn:
        data = conn.execute(sa.select(case_t.c.data).where(case_t.c.id == world["fna"])).scalar_one()
        conn.execute(case_t.update().where(case_t.c.id == world["fna"])
                     .values(data={**data, "protocollo": "CSC-2026-0042\x07"}))
    return world["bando"]


def _steps(engine, case_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(transition_t.c.transition).where(transition_t.c.case_id == case_id)
                                 .order_by(transition_t.c.seq)).scalars())


def _basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


def test_bad_computed_data_is_an_italian_422_naming_the_field_through_the_api(app, web_engine, closed_call):
    before = _steps(web_engine, closed_call)
    client = TestClient(app, headers=_basic("udp.neri"), raise_server_exceptions=False)
    r = client.post(f"{API}/casi/{closed_call}/transizioni/{STEP}",
                    json={"dati": {"atto": "Determinazione UdP n. 41/2026"}})
    assert r.status_code == 422, r.text
    [error] = r.json()["errori"]
    assert error["campo"] == "posizioni.0.protocollo" and error["etichetta"] == LABEL
    assert error["messaggio"].startswith("contiene un carattere di controllo non ammesso (U+0007)")
    assert "calcolato" in error["messaggio"]
    assert "validation error" not in r.text and "pydantic" not in r.text
    assert _steps(web_engine, closed_call) == before


def test_positions_sent_by_the_client_are_named_by_their_label_and_said_to_be_computed(app, closed_call):
    client = TestClient(app, headers=_basic("udp.neri"))
    r = client.post(f"{API}/casi/{closed_call}/transizioni/{STEP}",
                    json={"dati": {"atto": "Determinazione UdP n. 41/2026", "posizioni": []}})
    assert r.status_code == 422
    assert r.json()["errori"] == [{"campo": "posizioni", "etichetta": "Posizioni in graduatoria",
                                   "messaggio": "campo non previsto: lo calcola Legami quando il passo è eseguito"}]


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield CliRunner()
    cached_engine(db_url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def test_bad_computed_data_is_an_italian_error_naming_the_field_through_the_cli(cli, web_engine, closed_call):
    before = _steps(web_engine, closed_call)
    result = cli.invoke(cli_app, ["case", "advance", str(closed_call), STEP, "--actor", "udp.neri", "--data",
                                  '{"atto": "Determinazione UdP n. 41/2026"}', "--json"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1  # one Italian line naming the field (the CLI's error form)
    assert lines[0].startswith(f"Errore: dati non validi: «{LABEL}»: contiene un carattere di controllo non "
                               "ammesso (U+0007)")
    assert "validation error" not in result.output and "pydantic" not in result.output
    assert _steps(web_engine, closed_call) == before
