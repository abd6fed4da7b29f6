"""Two Ambiti on one instance, through the web app and the API (issue 15 item 2), on SQLite and PostgreSQL:
Cremasco's district world and a Lodi case; every role of each Ambito, on each main entrance (API list, API case,
its deadlines and diary, the open deadlines, the case list page and the case page), sees nothing of the other
Ambito's cases and still sees its own."""
from __future__ import annotations

from datetime import date

import pytest

from services.access import ScopedCaseService, principal_for
from services.auth import create_user
from services.cases import CaseService
from services.setup import load_ambito
from store.tables import AppUser
from tests.district_world import build_world
from tests.integration.patto_steps import segnalazione

from .conftest import NOW, PASSWORD

LODI_USERS = [("as.lodi", "social_worker", "Lodi"), ("coord.lodi", "subarea_coordinator", "Lodi"),
              ("csc.lodi", "csc_admin", None), ("udp.lodi", "planning_office", None)]
CREMASCO_USERS = ["as.rossi", "coord.crema", "csc.bianchi", "udp.neri"]


@pytest.fixture
def two_worlds(web_engine):
    load_ambito(web_engine, "config/districts/lodi")
    for username, role, area in LODI_USERS:
        create_user(web_engine, username, username, f"{username}@example.org", role, sub_ambito=area,
                    password=PASSWORD, now=NOW)
    with web_engine.begin() as conn:
        t = AppUser.__table__
        conn.execute(t.update().where(t.c.username.in_([u for u, _, _ in LODI_USERS])).values(ambito_code="lodi"))
    service = CaseService(web_engine, clock=lambda: NOW)
    cremasco = set(build_world(service).values())
    lodi = ScopedCaseService(service).open_case(principal_for(web_engine, "as.lodi"), case_type="patto",
                                                comune_istat="098031", effective_at=date(2026, 1, 12),
                                                data=segnalazione(surname="Rossi", name="Mario"))
    return {"cremasco": cremasco, "lodi": {lodi}}


def _seen(client, case_ids: set[int]) -> list[str]:
    """The entrances through which `client` saw any of `case_ids`."""
    seen = []
    listed = {c["id"] for c in client.get("/api/v1/casi?limit=500").json()}
    if listed & case_ids:
        seen.append("API elenco")
    if {d["caso"] for d in client.get("/api/v1/scadenze?entro_giorni=366").json()} & case_ids:
        seen.append("API scadenze")
    for case_id in sorted(case_ids):
        for path in (f"/api/v1/casi/{case_id}", f"/api/v1/casi/{case_id}/scadenze", f"/api/v1/casi/{case_id}/diario",
                     f"/casi/{case_id}"):
            if client.get(path).status_code == 200:
                seen.append(path)
    return seen


def test_no_role_of_either_ambito_crosses_into_the_other(client_for, two_worlds):
    crossings = {}
    for ambito, usernames in (("cremasco", CREMASCO_USERS), ("lodi", [u for u, _, _ in LODI_USERS])):
        other = two_worlds["lodi" if ambito == "cremasco" else "cremasco"]
        for username in usernames:
            if seen := _seen(client_for(username), other):
                crossings[username] = seen
    assert crossings == {}


def test_the_lodi_staff_still_reach_their_own_case(client_for, two_worlds):
    (lodi,) = two_worlds["lodi"]
    for username in ("as.lodi", "coord.lodi", "csc.lodi"):
        client = client_for(username)
        assert client.get(f"/api/v1/casi/{lodi}").status_code == 200
        assert lodi in {c["id"] for c in client.get("/api/v1/casi").json()}


def test_the_indicators_of_the_lodi_planning_office_count_no_cremasco_case(client_for, two_worlds):
    lodi = client_for("udp.lodi").get("/api/v1/indicatori").json()
    cremasco = client_for("udp.neri").get("/api/v1/indicatori").json()
    counted = [r.get("valore") for r in lodi.get("arretrato", [])]
    assert all(v in (None, 0, 1) for v in counted), counted  # one Lodi case at most per cell (or hidden)
    assert any(r.get("valore") for r in cremasco.get("arretrato", []))  # Cremasco's world is counted there
