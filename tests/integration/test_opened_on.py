"""The day a case was opened is the Rome calendar day, also when read back from the database (stored in UTC)."""
from __future__ import annotations

from datetime import datetime

from store.cases import load_case

from .conftest import ROME
from .patto_steps import segnalazione


def test_a_case_opened_just_after_midnight_in_rome_was_opened_that_day_not_the_day_before(service, engine):
    opened = datetime(2026, 1, 12, 0, 30, tzinfo=ROME)  # 11/01 23:30 UTC
    case_id = service.open_case(case_type="patto", actor=service.actor("as.rossi"), comune_istat="019035",
                                effective_at=opened, data=segnalazione())
    with engine.connect() as conn:
        assert load_case(conn, case_id).opened_on.isoformat() == "2026-01-12"
