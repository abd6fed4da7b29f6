"""The night on a real Prefect work pool (issue 15 item 3, acceptance): a `prefect server start` on PostgreSQL,
`legami jobs deploy`, two `prefect worker start --type process` workers, Legami on PostgreSQL with Cremasco and
Lodi. Two nights triggered together run every Ambito's partitions once; a flow run killed (SIGKILL) in the middle of
Lodi's sweep leaves the partition to be claimed again after its lease, and nothing is queued twice.

One server and two workers for the module (~1-2 minutes on 2 cores). PostgreSQL unreachable: a failure with
LEGAMI_REQUIRE_POSTGRES=1 (CI), a skip otherwise, as for every PostgreSQL test (tests/conftest.py)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date

import pytest
import sqlalchemy as sa

from flows.serve import QUIET_PREFECT, _wait_healthy, spawn, stop
from services.access import ScopedCaseService, principal_for
from services.cases import CaseService
from services.setup import ensure_user, init_database, load_ambito
from store import partitions as claims
from store import users as user_store
from store.db import make_engine
from store.tables import deadline_t, outbox_t, reminder_log_t
from tests.conftest import PG_URL, _admin, postgres_unreachable

from .conftest import NOW
from .patto_steps import segnalazione

CREMA, LODI = "019035", "098031"
FIRST, SECOND = date(2026, 11, 20), date(2026, 11, 23)
LEASE = 6
POOL = "legami-test"


def _database(suffix: str) -> str:
    target = sa.engine.make_url(PG_URL)
    name = f"{target.database}_{suffix}_{os.getpid()}"
    try:
        with _admin(PG_URL).connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        postgres_unreachable(f"PostgreSQL non raggiungibile a {PG_URL}: {exc.__class__.__name__}: {exc}")
    return target.set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    with _admin(PG_URL).connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_cases(engine, effective_at: date, surname: str) -> dict[str, int]:
    scoped = ScopedCaseService(CaseService(engine, clock=lambda: NOW))
    return {"cremasco": scoped.open_case(principal_for(engine, "as.rossi"), case_type="patto", comune_istat=CREMA,
                                         effective_at=effective_at, data=segnalazione(surname=surname)),
            "lodi": scoped.open_case(principal_for(engine, "as.lodi"), case_type="patto", comune_istat=LODI,
                                     effective_at=effective_at, data=segnalazione(surname=surname, name="Mario"))}


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    legami_url, prefect_url = _database("jobs"), _database("prefect")
    home = tmp_path_factory.mktemp("prefect")
    engine = make_engine(legami_url, poolclass=sa.pool.NullPool)
    init_database(legami_url, engine)
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "As Rossi", "as.rossi@example.org", "social_worker", "Crema", None)
        user_store.upsert_user(conn, "as.lodi", "as.lodi", "as.lodi@example.org", "social_worker", "Lodi", None,
                               ambito_code="lodi")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    pg_async = sa.engine.make_url(prefect_url).set(drivername="postgresql+asyncpg").render_as_string(False)
    env = {**os.environ, **QUIET_PREFECT, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
           "PREFECT_API_DATABASE_CONNECTION_URL": pg_async, "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_WORKER_PREFETCH_SECONDS": "1", "LEGAMI_DATABASE_URL": legami_url,
           "LEGAMI_JOB_LEASE_SECONDS": str(LEASE), "LEGAMI_JOB_PAUSE_SECONDS": "60",
           "LEGAMI_JOB_PAUSE_PARTITION": f"scadenze:lodi:{SECOND.isoformat()}",
           "LEGAMI_OUTBOX_DIR": str(home / "outbox"), "LEGAMI_AUDIT_DIR": str(home / "audit")}
    env.pop("LEGAMI_SMTP_HOST", None)
    log = (home / "server.log").open("ab")
    server = spawn([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
                    ], {k: v for k, v in env.items() if k != "PREFECT_API_URL"},
                   stdout=log, stderr=subprocess.STDOUT)
    workers = []
    try:
        _wait_healthy(api, server, 300)  # cold start on 2 busy cores: minutes
        deployed = subprocess.run([sys.executable, "-m", "cli.main", "jobs", "deploy", "--pool", POOL,
                                   "--concorrenza", "2", "--json"], env=env, capture_output=True, text=True,
                                  timeout=120)
        assert deployed.returncode == 0, deployed.stderr
        for n in (1, 2):
            with (home / f"worker{n}.log").open("ab") as out:
                workers.append(spawn([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL,
                                      "--type", "process", "--name", f"lavoratore-{n}"], env, stdout=out,
                                     stderr=subprocess.STDOUT))
        yield {"engine": engine, "env": env, "home": home}
    finally:
        stop(*workers, server)
        log.close()
        engine.dispose()
        _drop(legami_url)
        _drop(prefect_url)


def trigger(env, day: date, deployment: str = "legami-notte/notte", *params: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "prefect", "deployment", "run", deployment,
                             "--param", f'day="{day.isoformat()}"', *params, "--watch", "--watch-timeout", "600"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(run: subprocess.Popen) -> str:
    out, _ = run.communicate(timeout=630)
    assert run.returncode == 0, out
    return out


def digest_items(engine, day: date) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.recipient, outbox_t.c.payload)
                            .where(outbox_t.c.template == "digest")).all()
    return [(r.recipient, v["caso_id"], v["categoria"], v.get("etichetta")) for r in rows
            if r.payload["giorno"] == day.isoformat() for v in r.payload["voci"]]


def logged(engine, day: date) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(reminder_log_t)
                            .where(reminder_log_t.c.queued_on == day)).scalar_one()


def test_a_night_and_a_second_run_of_the_same_ambiti_started_together_run_each_partition_once(pool):
    """The night fans out one flow run per Ambito; a second flow run for both Ambiti, started at the same moment,
    races with them on the two workers: every (job, Ambito) is claimed and done once."""
    engine = pool["engine"]
    cases = open_cases(engine, date(2026, 1, 12), "Bianchi")
    runs = [trigger(pool["env"], FIRST),
            trigger(pool["env"], FIRST, "legami-partizione/partizione", "--param", 'ambiti=["cremasco", "lodi"]')]
    for run in runs:
        finished(run)
    rows = {(r.job, r.partition): r for r in claims.of_day(engine, FIRST)}
    assert set(rows) == {(job, code) for job in ("scadenze", "obblighi", "conteggi") for code in ("cremasco", "lodi")} \
        | {("invio", "tutti")}
    assert {(r.status, r.attempts) for r in rows.values()} == {("done", 1)}
    assert rows[("scadenze", "lodi")].result["escalation"] > 0 and rows[("scadenze", "cremasco")].result["escalation"] > 0
    items = digest_items(engine, FIRST)
    assert {i[1] for i in items} == set(cases.values()) and len(items) == len(set(items)) == logged(engine, FIRST)


def test_a_flow_run_killed_mid_sweep_is_retried_and_nothing_is_queued_twice(pool):
    engine = pool["engine"]
    cases = open_cases(engine, date(2026, 2, 2), "Verdi")
    run = trigger(pool["env"], SECOND)
    deadline, victim = time.monotonic() + 180, None
    while time.monotonic() < deadline and victim is None:  # Lodi's sweep has done its work and pauses
        row = claims.one(engine, "scadenze", SECOND, "lodi")
        with engine.connect() as conn:
            lodi_logged = conn.execute(sa.select(sa.func.count()).select_from(reminder_log_t).join(
                deadline_t, deadline_t.c.id == reminder_log_t.c.deadline_id)
                .where(deadline_t.c.case_id == cases["lodi"])).scalar_one()
        if row is not None and row.status == "running" and lodi_logged:
            victim = int(row.claimed_by.rsplit(":", 1)[1])
        else:
            time.sleep(0.5)
    assert victim is not None, "la partizione di Lodi non è mai partita"
    before = [i for i in digest_items(engine, SECOND) if i[1] == cases["lodi"]]
    os.kill(victim, signal.SIGKILL)
    finished(run)
    row = claims.one(engine, "scadenze", SECOND, "lodi")
    assert (row.status, row.attempts) == ("done", 2) and int(row.claimed_by.rsplit(":", 1)[1]) != victim
    others = [r for r in claims.of_day(engine, SECOND) if (r.job, r.partition) != ("scadenze", "lodi")]
    assert {(r.status, r.attempts) for r in others} == {("done", 1)}
    items = digest_items(engine, SECOND)
    assert sorted(i for i in items if i[1] == cases["lodi"]) == sorted(before) and before
    assert {i[1] for i in items} == set(cases.values())
    assert len(items) == len(set(items)) == logged(engine, SECOND)
