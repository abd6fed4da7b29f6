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

MONITORING = {"incontro_il": "19/11/2026", "ore_reciprocita": "8", "avanzamento": "regolare"}


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


# ----------------------------------------------------------------------------- bulk hand-over


def test_a_bulk_hand_over_is_previewed_first_then_confirmed_all_at_once(world, web_engine):
    coord = me(web_engine, "coord.crema")
    mine = {world["patto_crema"], world["sad_ente01"], world["minore"]}
    nobody = handover.handover_preview(web_engine, coord, "as.rossi", {}, now=NOW)
    assert {c["caso"] for c in nobody["casi"]} == mine and not nobody["pronto"]
    assert {c["problema"] for c in nobody["casi"]} == {"manca il nuovo assegnatario"}
    preview = handover.handover_preview(web_engine, coord, "as.rossi", {"a_tutti": "as.bruni"}, now=NOW)
    assert preview["pronto"] and {c["nuovo_assegnatario"] for c in preview["casi"]} == {"as.bruni"}
    assert all(owner_of(web_engine, c).owner == "as.rossi" for c in mine)  # a preview writes nothing
    with pytest.raises(InvalidData, match="«Motivo»: obbligatorio"):
        handover.handover_confirm(web_engine, coord, "as.rossi", {"a_tutti": "as.bruni"}, now=NOW)
    done = handover.handover_confirm(web_engine, coord, "as.rossi",
                                     {"a_tutti": "as.bruni", "motivo": "Pensionamento"}, now=NOW)
    assert {d["caso"] for d in done} == mine
    assert all(owner_of(web_engine, c).owner == "as.bruni" for c in mine)
    assert len(mails(web_engine, template="caso_riassegnato")) == 2 * len(mine)
    assert verify(web_engine).breaks == []


# ----------------------------------------------------------------------------- deputies


def scoped(engine, when):
    from services.access import ScopedCaseService
    from services.cases import CaseService

    return ScopedCaseService(CaseService(engine, clock=lambda: when))


def test_a_deputy_acts_on_the_absent_workers_case_during_the_period_and_is_refused_after(world, web_engine):
    case_id = world["patto_crema"]
    bruni = me(web_engine, "as.bruni")
    step = {"transition": "registra_monitoraggio", "data": MONITORING}
    with pytest.raises(AccessDenied, match="può procedere solo l'assegnatario"):
        scoped(web_engine, NOW).advance(bruni, case_id=case_id, **step)
    handover.name_deputy(web_engine, me(web_engine, "coord.crema"),
                         {"assegnatario": "as.rossi", "sostituto": "as.bruni", "dal": "16/11/2026",
                          "al": "30/11/2026", "motivo": "ferie"}, now=NOW)
    assert sorted(m.recipient for m in mails(web_engine, template="sostituto_nominato")) == [
        "as.bruni@example.org", "as.rossi@example.org"]
    seq = scoped(web_engine, NOW).advance(bruni, case_id=case_id, **step)
    recorded = last_step(web_engine, case_id)
    assert (recorded.seq, recorded.actor, recorded.on_behalf_of) == (seq, "as.bruni", "as.rossi")
    assert verify(web_engine).breaks == []
    after = NOW + timedelta(days=11)
    with pytest.raises(AccessDenied, match="può procedere solo l'assegnatario"):
        scoped(web_engine, after).advance(bruni, case_id=case_id, **step)


def test_a_deputy_with_bad_dates_is_refused_in_italian(world, web_engine):
    coord = me(web_engine, "coord.crema")
    base = {"assegnatario": "as.rossi", "sostituto": "as.bruni"}
    with pytest.raises(InvalidData) as backwards:
        handover.name_deputy(web_engine, coord, {**base, "dal": "30/11/2026", "al": "16/11/2026"}, now=NOW)
    assert "«Al»: non può precedere la data di inizio (30/11/2026)" in str(backwards.value)
    with pytest.raises(InvalidData) as garbled:
        handover.name_deputy(web_engine, coord, {**base, "dal": "31/02/2026", "al": ""}, now=NOW)
    assert "«Dal»" in str(garbled.value) and "«Al»: obbligatoria" in str(garbled.value)
    with pytest.raises(AccessDenied):
        handover.name_deputy(web_engine, me(web_engine, "coord.pandino"),
                             {**base, "dal": "20/11/2026", "al": "30/11/2026"}, now=NOW)


# ----------------------------------------------------------------------------- transfers


def test_a_transfer_moves_the_case_to_the_other_sub_ambito_and_both_coordinators_are_told(world, web_engine):
    from services.access import authorize_read

    case_id = world["patto_crema"]
    old, new = me(web_engine, "coord.crema"), me(web_engine, "coord.pandino")
    with pytest.raises(AccessDenied):
        authorize_read(web_engine, new, case_id, today=NOW.date())
    with pytest.raises(InvalidData, match="«Motivo»: obbligatorio"):
        handover.transfer(web_engine, old, case_id, {"nuovo_comune": PANDINO}, now=NOW)
    handover.transfer(web_engine, old, case_id, {"nuovo_comune": "Pandino", "motivo": "Cambio di residenza"},
                      now=NOW)
    moved = owner_of(web_engine, case_id)
    assert (moved.comune_istat, moved.owner, moved.state) == (PANDINO, None, "ACTIVE")
    authorize_read(web_engine, new, case_id, today=NOW.date())
    for lost in (old, me(web_engine, "as.rossi")):
        with pytest.raises(AccessDenied):
            authorize_read(web_engine, lost, case_id, today=NOW.date())
    sent = mails(web_engine, case_id, "caso_trasferito")
    assert sorted((m.recipient, m.payload["ceduto"]) for m in sent) == [
        ("as.rossi@example.org", True), ("coord.crema@example.org", True), ("coord.pandino@example.org", False)]
    handover.reassign(web_engine, new, case_id, {"nuovo_assegnatario": "as.verdi", "motivo": "Nuova residenza"},
                      now=NOW)
    steps = [s.transition for s in _steps(web_engine, case_id)]
    assert steps[-2:] == ["trasferimento", "riassegnazione"] and steps[0] == "segnala"  # the history stays
    assert verify(web_engine).breaks == []


def _steps(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(transition_t).where(transition_t.c.case_id == case_id)
                            .order_by(transition_t.c.seq)).all()
