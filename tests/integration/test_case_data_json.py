"""The JSON a transition writes (case data, audit row, outbox payload) reads back the same, in Python and in SQL."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from services.queries import case_detail
from store.tables import case_t, outbox_t, transition_t

from .patto_steps import ASSEGNA, VALUTAZIONE, open_patto

NEEDS = "perché la città è lontana: «affitto» arretrato — 3 mesi, 1.250,00 €"


def test_accented_text_written_by_a_step_reads_back_the_same_in_python_and_in_sql(service, engine):
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    case_id = open_patto(service, worker)
    service.advance(case_id=case_id, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 1, 14))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker,
                    data={**VALUTAZIONE, "bisogni": NEEDS}, effective_at=date(2026, 1, 20))

    detail = case_detail(engine, case_id)
    assert detail["dati"]["bisogni"] == NEEDS
    assert detail["dati"]["isee"]["protocollo"] == VALUTAZIONE["isee"]["protocollo"]
    assert detail["storia"][2]["dati"]["bisogni"] == NEEDS
    with engine.connect() as conn:  # reports and tallies read inside the JSON with the database's own functions
        in_case = conn.execute(sa.select(case_t.c.data["bisogni"].as_string(), case_t.c.data["componenti_nucleo"]
                                         .as_integer()).where(case_t.c.id == case_id)).one()
        in_audit = conn.execute(sa.select(transition_t.c.data["bisogni"].as_string())
                                .where(transition_t.c.case_id == case_id, transition_t.c.seq == 3)).scalar_one()
        recipient = conn.execute(sa.select(outbox_t.c.payload["assegnatario"].as_string())
                                 .where(outbox_t.c.case_id == case_id)).scalar_one()
        if engine.dialect.name == "sqlite":  # text: since SQLite 3.45 a BLOB would be read as binary JSONB
            stored = conn.execute(sa.select(sa.func.typeof(case_t.c.data), sa.func.typeof(transition_t.c.data))
                                  .join_from(case_t, transition_t, transition_t.c.case_id == case_t.c.id)
                                  .where(case_t.c.id == case_id, transition_t.c.seq == 3)).one()
            assert tuple(stored) == ("text", "text")
    assert tuple(in_case) == (NEEDS, VALUTAZIONE["componenti_nucleo"])
    assert in_audit == NEEDS
    assert recipient == "As Rossi"  # the assignment e-mail greets her by name
