"""Hand-over in the browser (issue 13 item 2): the sub-ambito coordinator names a deputy for an absent worker on
«Consegne e sostituti»; the deputy opens the absent worker's case and records a monitoring, which the timeline
shows «per conto di» the owner; the coordinator then ends the deputyship (the other browser tests see none)."""
from __future__ import annotations

import sqlalchemy as sa

from services.cases import CaseService
from store.tables import transition_t
from tests.district_world import CREMA, patto
from tests.integration.conftest import NOW

from .conftest import log_in, screenshot
from .test_case_journeys import fill, submit, transition_form


def test_a_coordinator_names_a_deputy_who_then_records_a_monitoring(new_page, live_server):
    engine = live_server["engine"]
    case_id = patto(CaseService(engine, clock=lambda: NOW), "as.rossi", "coord.crema", CREMA, surname="Dedalo",
                    name="Marta")  # a case of its own: nothing else in the browser tests touches it
    coordinator = log_in(new_page(), "coord.crema")
    coordinator.goto("/consegne")
    form = coordinator.get_by_test_id("modulo-sostituto")
    fill(form, {"assegnatario": "as.rossi", "sostituto": "as.bruni", "dal": "20/11/2026", "al": "04/12/2026"})
    with coordinator.expect_navigation():
        form.get_by_role("button", name="Nomina").click()
    assert "in corso" in coordinator.get_by_test_id("sostituzioni").inner_text()
    screenshot(coordinator, "consegne-sostituti")

    deputy = log_in(new_page(), "as.bruni")
    deputy.goto(f"/casi/{case_id}")
    monitoring = transition_form(deputy, "registra_monitoraggio")
    fill(monitoring, {"incontro_il": "19/11/2026", "ore_reciprocita": "8", "avanzamento": "regolare"})
    submit(deputy, monitoring)
    assert "per conto di As Rossi" in deputy.content()
    with engine.connect() as conn:
        step = conn.execute(sa.select(transition_t.c.actor, transition_t.c.on_behalf_of)
                            .where(transition_t.c.case_id == case_id).order_by(transition_t.c.seq.desc())).first()
    assert tuple(step) == ("as.bruni", "as.rossi")

    coordinator.goto("/consegne")
    with coordinator.expect_navigation():
        coordinator.get_by_role("button", name="Chiudi la sostituzione di As Rossi").click()
    assert coordinator.get_by_test_id("sostituzioni").count() == 0
