"""Hand-over, deputies and transfers (issue 13 item 2, DOMAIN.md §13), on both databases: a coordinator reassigns
an ACTIVE case (both workers told through the outbox, the step in the case's chain); hands over every open case of
a worker after a preview; names a deputy who acts on the absent worker's cases while the period lasts (each act
records both names) and is refused after; transfers a case to a comune of another sub-ambito (the old coordinator
loses it, the new one gains it, both told); Italian errors for a missing reason and bad dates."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from domain.access import AccessDenied
from domain.errors import InvalidData
from services.access import principal_for
from services.audit import verify
from services import handover
from store.tables import case_t, outbox_t, transition_t
from tests.district_world import PANDINO
from tests.integration.conftest import NOW
from tests.web.conftest import PASSWORD

MONITORING = {"incontro_il": "19/11/2026", "esito": "in_linea", "note": "Impegni rispettati."}


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


def me(engine, username):
    return principal_for(engine, username)


def mails(engine, case_id=None, template=None) -> list:
    o = outbox_t.c
    q = sa.select(o.recipient, o.template, o.payload).order_by(o.id)
    if case_id is not None:
        q = q.where(o.case_id == case_id)
    if template is not None:
        q = q.where(o.template == template)
    with engine.connect() as conn:
        return conn.execute(q).all()


def owner_of(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(case_t.c.owner, case_t.c.comune_istat, case_t.c.state)
                            .where(case_t.c.id == case_id)).one()


def last_step(engine, case_id):
    t = transition_t.c
    with engine.connect() as conn:
        return conn.execute(sa.select(transition_t).where(t.case_id == case_id).order_by(t.seq.desc())).first()


# ----------------------------------------------------------------------------- reassigning one case


def test_a_coordinator_reassigns_an_active_case_and_both_workers_are_told_through_the_outbox(world, web_engine):
    case_id = world["patto_crema"]
    assert owner_of(web_engine, case_id).state == "ACTIVE"
    seq = handover.reassign(web_engine, me(web_engine, "coord.crema"), case_id,
                            {"nuovo_assegnatario": "as.bruni", "motivo": "Trasferimento d'ufficio di A. Rossi"},
                            now=NOW)
    assert owner_of(web_engine, case_id).owner == "as.bruni"
    step = last_step(web_engine, case_id)
    assert (step.seq, step.transition, step.from_state, step.to_state, step.actor) == (
        seq, "riassegnazione", "ACTIVE", "ACTIVE", "coord.crema")
    assert step.data == {"assegnatario_precedente": "as.rossi", "nuovo_assegnatario": "as.bruni"}
    sent = mails(web_engine, case_id, "caso_riassegnato")
    assert sorted((m.recipient, m.payload["ceduto"]) for m in sent) == [
        ("as.bruni@example.org", False), ("as.rossi@example.org", True)]
    assert verify(web_engine).breaks == []


def test_a_reassignment_without_a_reason_is_refused_in_italian_and_writes_nothing(world, web_engine):
    case_id = world["patto_crema"]
    with pytest.raises(InvalidData) as refused:
        handover.reassign(web_engine, me(web_engine, "coord.crema"), case_id,
                          {"nuovo_assegnatario": "as.bruni", "motivo": "  "}, now=NOW)
    assert "«Motivo»: obbligatorio" in str(refused.value)
    assert owner_of(web_engine, case_id).owner == "as.rossi" and mails(web_engine, case_id, "caso_riassegnato") == []


def test_only_the_coordinator_of_the_cases_sub_ambito_reassigns_it(world, web_engine):
    for who in ("coord.pandino", "as.rossi"):
        with pytest.raises(AccessDenied):
            handover.reassign(web_engine, me(web_engine, who), world["patto_crema"],
                              {"nuovo_assegnatario": "as.bruni", "motivo": "prova"}, now=NOW)
    with pytest.raises(InvalidData, match="non lavora nel sub-ambito"):
        handover.reassign(web_engine, me(web_engine, "coord.crema"), world["patto_crema"],
                          {"nuovo_assegnatario": "as.verdi", "motivo": "prova"}, now=NOW)
