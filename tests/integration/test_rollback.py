"""A unit of work commits state, audit, deadlines and outbox together or not at all."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from services import handlers
from services.queries import case_detail

from .patto_steps import ASSEGNA, open_patto
from .test_case_lifecycle import counts


@pytest.fixture
def failing_outbox(monkeypatch):
    """A handler whose outbox row violates the schema (no recipient): it fails after the state change."""

    def broken(event):
        return [handlers.Message(None, "caso_assegnato", {})]

    monkeypatch.setitem(handlers.HANDLERS, "patto.assegna", [broken])


def test_a_failure_while_writing_the_outbox_leaves_no_state_change_and_no_audit_row(service, engine, failing_outbox):
    case_id = open_patto(service, service.actor("as.rossi"))
    before = counts(engine)
    with pytest.raises(sa.exc.IntegrityError):
        service.advance(case_id=case_id, transition="assegna", actor=service.actor("coord.crema"), data=ASSEGNA,
                        effective_at=date(2026, 1, 14))
    assert counts(engine) == before
    detail = case_detail(engine, case_id)
    assert (detail["stato"], detail["versione"], len(detail["storia"])) == ("REFERRED", 1, 1)
    assert {d["tipo"]: d["stato"] for d in detail["scadenze"]} == {
        "presa_in_carico": "open", "analisi_preliminare": "open"}


def test_a_handler_raising_rolls_back_the_opening_of_a_case_too(service, engine, monkeypatch):
    def explode(event):
        raise RuntimeError("handler rotto")

    monkeypatch.setitem(handlers.HANDLERS, "patto.segnala", [explode])
    before = counts(engine)
    with pytest.raises(RuntimeError, match="handler rotto"):
        open_patto(service, service.actor("as.rossi"))
    assert counts(engine) == before
