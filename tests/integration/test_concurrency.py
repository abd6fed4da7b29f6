"""Optimistic concurrency on PostgreSQL: of many advances of the same case exactly one wins."""
from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from domain.errors import ConflictError
from domain.italian import ROME
from services.cases import CaseService
from services.queries import case_detail
from store.db import make_engine
from store.tables import transition_t

from .conftest import NOW
from .patto_steps import ASSEGNA, MONITORAGGIO, VALUTAZIONE, open_patto, patto_firmato

THREADS = 20


@pytest.fixture
def pg_service(pg_url):
    engine = make_engine(pg_url, pool_size=THREADS, max_overflow=5)
    from services.setup import ensure_user
    from tests.conftest import empty_all_tables

    from .conftest import USERS
    from services.setup import init_database

    with engine.begin() as conn:
        empty_all_tables(conn)
    init_database(pg_url, engine)
    with engine.begin() as conn:
        for username, role, area, provider in USERS:
            ensure_user(conn, username, username, f"{username}@example.org", role, area, provider)
    yield CaseService(engine, clock=lambda: NOW)
    engine.dispose()


def race(service: CaseService, case_id: int, transition: str, actor, data, when) -> tuple[int, int, list]:
    """THREADS users who all saw the same version of the case submit the same step at once."""
    seen = case_detail(service.engine, case_id)["versione"]
    barrier = threading.Barrier(THREADS)
    wins, conflicts, others = [], [], []

    def attempt() -> None:
        barrier.wait()
        try:
            wins.append(service.advance(case_id=case_id, transition=transition, actor=actor, data=data,
                                        effective_at=when, expected_version=seen))
        except ConflictError:
            conflicts.append(1)
        except Exception as exc:  # noqa: BLE001 - anything else is a failure of the test
            others.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(wins), len(conflicts), others


def test_twenty_threads_advancing_the_same_case_give_one_success_per_step(pg_service):
    svc = pg_service
    worker, coord = svc.actor("as.rossi"), svc.actor("coord.crema")
    case_id = open_patto(svc, worker)
    steps = [
        ("assegna", coord, ASSEGNA, date(2026, 1, 14)),
        ("avvia_redazione", worker, VALUTAZIONE, date(2026, 1, 20)),
        ("attiva", worker, patto_firmato(), date(2026, 2, 2)),
        ("registra_monitoraggio", worker, MONITORAGGIO, date(2026, 3, 2)),
    ]
    for name, actor, data, when in steps:
        wins, conflicts, others = race(svc, case_id, name, actor, data, when)
        assert others == []
        assert (wins, conflicts) == (1, THREADS - 1), name

    with svc.engine.connect() as conn:
        seqs = conn.execute(sa.select(transition_t.c.seq, transition_t.c.transition)
                            .where(transition_t.c.case_id == case_id).order_by(transition_t.c.seq)).all()
    assert [tuple(r) for r in seqs] == [(1, "segnala"), (2, "assegna"), (3, "avvia_redazione"), (4, "attiva"),
                                        (5, "registra_monitoraggio")]
    detail = case_detail(svc.engine, case_id)
    assert (detail["stato"], detail["versione"]) == ("ACTIVE", 5)
    open_monitoring = [d for d in detail["scadenze"] if d["tipo"] == "monitoraggio" and d["stato"] == "open"]
    assert len(open_monitoring) == 1


def test_a_step_decided_on_a_version_that_moved_before_its_writes_is_a_conflict_and_writes_nothing(
        pg_service, monkeypatch):
    """The writes of a step go to PostgreSQL in one pipeline and the guarded UPDATE's rowcount is read after
    them: when another user's step commits between this step's read and its writes, the step is still a
    conflict, and none of its writes (audit row, deadlines, outbox) is kept."""
    import store.cases as repo

    svc = pg_service
    worker, coord = svc.actor("as.rossi"), svc.actor("coord.crema")
    case_id = open_patto(svc, worker)
    real_load = repo.load_case
    interleaved = []

    def read_then_let_another_user_advance(conn, cid, **kwargs):
        view = real_load(conn, cid, **kwargs)
        if not interleaved:  # once: the other user's step runs (and commits) on its own connection
            interleaved.append(1)
            other = threading.Thread(target=lambda: interleaved.append(svc.advance(
                case_id=cid, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 1, 14))))
            other.start()
            other.join()
        return view

    monkeypatch.setattr(repo, "load_case", read_then_let_another_user_advance)
    with pytest.raises(ConflictError):
        svc.advance(case_id=case_id, transition="assegna", actor=coord,
                    data={**ASSEGNA, "primo_colloquio_il": "15/01/2026"}, effective_at=date(2026, 1, 15))
    assert interleaved == [1, 2]  # the other user's step won, as seq 2

    with svc.engine.connect() as conn:
        seqs = conn.execute(sa.select(transition_t.c.seq, transition_t.c.effective_at)
                            .where(transition_t.c.case_id == case_id).order_by(transition_t.c.seq)).all()
        outbox = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE case_id = :c"), {"c": case_id}).scalar()
    assert [s for s, _ in seqs] == [1, 2]
    assert seqs[1][1].astimezone(ROME).date() == date(2026, 1, 14)  # the winner's row, not the loser's
    assert outbox == 1  # the winner's notice only
    detail = case_detail(svc.engine, case_id)
    assert (detail["stato"], detail["versione"]) == ("INTAKE", 2)
