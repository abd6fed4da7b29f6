"""The deadline sweep writes its reminders in transactions of many batches: the digests come out as if the
sweep had read every deadline in one batch."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from services.sweep import run_deadline_sweep
from store.tables import outbox_t, reminder_log_t

from .patto_steps import open_patto

OVERDUE_ON = date(2026, 1, 27)  # a referral of 12/01/2026 is taken in by 26/01


def digests(engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.idempotency_key, outbox_t.c.payload)
                            .where(outbox_t.c.template == "digest").order_by(outbox_t.c.id)).all()
    return {r.idempotency_key: r.payload["voci"] for r in rows}


def test_escalations_read_in_many_batches_and_transactions_reach_one_digest_in_deadline_order(service, engine):
    cases = [open_patto(service, service.actor("as.rossi")) for _ in range(5)]
    sweep = run_deadline_sweep(engine, as_of=OVERDUE_ON, service=service, batch_size=2, per_transaction=3)
    assert sweep.escalations == 5
    sent = digests(engine)
    assert list(sent) == ["digest:coord.crema:2026-01-27"]
    assert [i["caso_id"] for i in sent["digest:coord.crema:2026-01-27"]] == cases
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(reminder_log_t)).scalar() == 5
    assert run_deadline_sweep(engine, as_of=OVERDUE_ON, service=service, batch_size=2, per_transaction=3).queued == 0


def test_a_digest_that_already_left_gets_the_later_items_in_a_second_digest_of_the_day(service, engine):
    first = open_patto(service, service.actor("as.rossi"))
    run_deadline_sweep(engine, as_of=OVERDUE_ON, service=service)
    with engine.begin() as conn:
        conn.execute(outbox_t.update().values(status="sent"))
    later = [open_patto(service, service.actor("as.rossi")) for _ in range(3)]
    again = run_deadline_sweep(engine, as_of=OVERDUE_ON, service=service, batch_size=1, per_transaction=2)
    assert again.escalations == 3
    sent = digests(engine)
    assert [i["caso_id"] for i in sent["digest:coord.crema:2026-01-27"]] == [first]
    assert [i["caso_id"] for i in sent["digest:coord.crema:2026-01-27:2"]] == later
