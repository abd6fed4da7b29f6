"""The nightly jobs per Ambito (issue 15 item 3), on SQLite and PostgreSQL: each Ambito's sweep, obligations
and tallies touch only its cases; a partition is claimed once, a done one never runs again the day, an expired
lease (a crashed worker) is claimed again and the re-run queues nothing twice."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from flows import partitions
from services.access import ScopedCaseService, principal_for
from services.setup import load_ambito
from services.sweep import run_deadline_sweep
from store import partitions as claims
from store import users as user_store
from store.tables import deadline_t, outbox_t, reminder_log_t

from .patto_steps import segnalazione

CREMA, LODI = "019035", "098031"
DAY = date(2026, 11, 20)


@pytest.fixture
def night(engine, service):
    """Cremasco and Lodi, one overdue referral in each."""
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        user_store.upsert_user(conn, "as.lodi", "as.lodi", "as.lodi@example.org", "social_worker", "Lodi", None,
                               ambito_code="lodi")
    scoped = ScopedCaseService(service)
    cases = {"cremasco": scoped.open_case(principal_for(engine, "as.rossi"), case_type="patto", comune_istat=CREMA,
                                          effective_at=date(2026, 1, 12), data=segnalazione()),
             "lodi": scoped.open_case(principal_for(engine, "as.lodi"), case_type="patto", comune_istat=LODI,
                                      effective_at=date(2026, 1, 12), data=segnalazione(surname="Rossi", name="Mario"))}
    return engine, cases


def reminded_cases(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(deadline_t.c.case_id).join(
            reminder_log_t, reminder_log_t.c.deadline_id == deadline_t.c.id)).scalars())


def digest_items(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.recipient, outbox_t.c.payload)
                            .where(outbox_t.c.template == "digest")).all()
    return [(r.recipient, v["caso_id"], v["categoria"], v.get("etichetta")) for r in rows for v in r.payload["voci"]]


def test_each_ambito_s_sweep_reminds_only_of_its_own_cases_and_the_whole_sweep_then_adds_nothing(night, service):
    engine, cases = night
    lodi = run_deadline_sweep(engine, as_of=DAY, service=service, ambito="lodi")
    assert lodi.escalations > 0 and reminded_cases(engine) == {cases["lodi"]}
    run_deadline_sweep(engine, as_of=DAY, service=service, ambito="cremasco")
    assert reminded_cases(engine) == {cases["lodi"], cases["cremasco"]}
    assert run_deadline_sweep(engine, as_of=DAY, service=service).queued == 0
    assert run_deadline_sweep(engine, as_of=DAY, service=service, ambito="lodi").queued == 0


def test_an_unknown_ambito_is_refused_in_italian(night):
    from domain.errors import NotFound

    with pytest.raises(NotFound, match="Ambito «nessuno» inesistente"):
        run_deadline_sweep(night[0], as_of=DAY, ambito="nessuno")


def test_each_ambito_s_tallies_are_stored_apart_and_count_only_its_cases(night):
    from services.tallies import read_snapshot

    engine, _ = night
    for code in ("cremasco", "lodi"):
        partitions.run_partition("conteggi", code, DAY, engine=engine)
    lodi = read_snapshot(engine, as_of=DAY, ambito="lodi")
    assert set(lodi) == {"sub_ambito", "comune", "type"}
    assert read_snapshot(engine, as_of=DAY, ambito="cremasco") is not None and read_snapshot(engine, as_of=DAY) is None


def test_the_obligations_check_of_one_ambito_runs_on_its_own_calendar(night):
    from services.obligations import run_obligations_check

    engine, _ = night
    whole = run_obligations_check(engine, as_of=DAY)
    split = [run_obligations_check(engine, as_of=DAY, ambito=code) for code in ("cremasco", "lodi")]
    assert sum(r.queued for r in split) == 0  # the whole check queued it all already: nothing twice
    assert whole.queued >= 0 and all(r.as_of == DAY for r in split)


def test_a_partition_is_claimed_once_and_a_done_one_never_runs_again_that_day(night):
    engine, cases = night
    assert claims.claim(engine, "scadenze", DAY, "lodi", "w1", 60, 3) == 1
    assert claims.claim(engine, "scadenze", DAY, "lodi", "w2", 60, 3) is None  # held under a live lease
    assert claims.finish(engine, "scadenze", DAY, "lodi", "w1", result={"ok": 1})
    first = partitions.run_partition("scadenze", "lodi", DAY, engine=engine)
    assert first["stato"] == "già fatto" and reminded_cases(engine) == set()
    done = partitions.run_partition("scadenze", "cremasco", DAY, engine=engine)
    assert done["stato"] == "fatto" and done["esito"]["escalation"] > 0
    assert partitions.run_partition("scadenze", "cremasco", DAY, engine=engine)["stato"] == "già fatto"
    shown = {(c["lavoro"], c["partizione"]): c for c in partitions.claims(engine, DAY)}
    assert shown[("scadenze", "cremasco")]["stato"] == "done" and shown[("scadenze", "lodi")]["di"] == "w1"


def test_an_expired_lease_is_claimed_again_and_the_rerun_queues_nothing_twice(night):
    engine, cases = night
    # a worker claimed Lodi's sweep, did the work (committed) and died before marking it done
    assert claims.claim(engine, "scadenze", DAY, "lodi", "morto:1", 60, 3) == 1
    run_deadline_sweep(engine, as_of=DAY, ambito="lodi")
    before = digest_items(engine)
    assert partitions.run_partition("scadenze", "lodi", DAY, engine=engine)["stato"] == "in corso altrove"
    later = datetime.now(timezone.utc) + timedelta(seconds=61)
    assert claims.claim(engine, "scadenze", DAY, "lodi", "vivo:2", 60, 3, now=later) == 2
    assert claims.claim(engine, "scadenze", DAY, "lodi", "terzo:3", 60, 3, now=later) is None
    run_deadline_sweep(engine, as_of=DAY, ambito="lodi")
    assert claims.finish(engine, "scadenze", DAY, "lodi", "vivo:2", result={})
    after = digest_items(engine)
    assert after == before and len(after) == len(set(after)) and reminded_cases(engine) == {cases["lodi"]}


def test_a_failed_partition_is_claimed_again_until_its_attempts_run_out(night):
    engine, _ = night
    for attempt in (1, 2, 3):
        assert claims.claim(engine, "obblighi", DAY, "lodi", f"w{attempt}", 60, 3) == attempt
        claims.finish(engine, "obblighi", DAY, "lodi", f"w{attempt}", error="boom")
    assert claims.claim(engine, "obblighi", DAY, "lodi", "w4", 60, 3) is None
    assert partitions.run_partition("obblighi", "lodi", DAY, engine=engine)["stato"] == "tentativi esauriti"


def test_the_whole_night_in_one_process_runs_every_partition_once(night):
    engine, cases = night
    done = partitions.run_night(DAY, engine=engine)
    assert [(d["lavoro"], d["partizione"]) for d in done] == [
        (job, code) for code in ("cremasco", "lodi") for job in partitions.PER_AMBITO] + [("invio", "tutti")]
    assert {d["stato"] for d in done} == {"fatto"}
    assert {d["stato"] for d in partitions.run_night(DAY, engine=engine)} == {"già fatto"}
