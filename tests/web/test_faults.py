"""Faults as an Ente's servers meet them (issue 11): pooled PostgreSQL connections killed under the application
cost nobody a 500; `kill -9` of the web server in the middle of writes loses none the server acknowledged."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from services.cases import CaseService
from store.db import make_engine, normalise_url
from store.tables import case_t, transition_t
from tests.district_world import CREMA
from tests.integration.patto_steps import segnalazione

from .conftest import NOW, PASSWORD


def _kill_other_backends(url: str) -> int:
    """pg_terminate_backend for every other connection to the test database: what a restart does to a pool."""
    name = sa.engine.make_url(normalise_url(url)).database
    admin = make_engine(url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name}).scalar()
    admin.dispose()
    return killed


POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the pool is PostgreSQL's


@pytest.mark.postgres
@POSTGRES_ONLY
def test_killed_pooled_connections_cost_no_500_on_pages_or_api(world, client_for, db_url):
    worker = client_for("as.rossi")
    pages = ("/oggi", "/casi", f"/casi/{world['patto_crema']}")
    assert all(worker.get(p).status_code == 200 for p in pages)  # the pool holds live connections now
    api = client_for("coord.crema")
    for _round in range(3):
        assert _kill_other_backends(db_url) >= 1
        statuses = [worker.get(p).status_code for p in pages]
        statuses.append(api.get(f"/api/v1/casi/{world['patto_pandino']}").status_code)
        statuses.append(api.get("/api/v1/casi").status_code)
        assert statuses == [200, 200, 200, 403, 200], statuses


@pytest.mark.postgres
@POSTGRES_ONLY
def test_a_step_whose_first_read_meets_a_dead_connection_is_run_again_once(world, web_engine, db_url):
    service = CaseService(web_engine, clock=lambda: NOW)
    worker = service.actor("as.rossi")  # the pool holds a live connection now
    assert _kill_other_backends(db_url) >= 1
    seq = service.advance(case_id=world["patto_crema"], transition="sospendi", actor=worker,
                          reason="ricovero ospedaliero", effective_at=date(2026, 3, 2))
    with web_engine.connect() as conn:
        steps = conn.execute(sa.select(sa.func.count()).select_from(transition_t)
                             .where(transition_t.c.case_id == world["patto_crema"])).scalar()
    assert steps == seq  # applied exactly once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kill_9_of_the_server_in_mid_writes_loses_no_acknowledged_case(tmp_path, sqlite_template):
    """SQLite, the embedded default: open cases through the API until the server is killed with SIGKILL; every
    case whose creation was acknowledged (201) is in the database afterwards, with its audit row."""
    import shutil

    path = tmp_path / "legami.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    from services.auth import create_user

    create_user(engine, "as.rossi", "As Rossi", "as.rossi@example.org", "social_worker", sub_ambito="Crema",
                password=PASSWORD, now=NOW)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "LEGAMI_DATABASE_URL": url, "LEGAMI_SQLITE_SYNCHRONOUS": "FULL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env, cwd=os.getcwd())
    acknowledged: list[int] = []
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/accesso", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = ("as.rossi", PASSWORD)
        deadline = time.monotonic() + 20
        n = 0
        with httpx.Client(base_url=base, auth=auth, timeout=5) as client:
            while time.monotonic() < deadline and len(acknowledged) < 40:
                n += 1
                body = {"tipo": "patto", "comune_istat": CREMA, "efficace_il": "2026-03-02",
                        "dati": segnalazione(surname="Guasto", name=f"Prova{n}",  # a different person each
                                            birth=date(1980, 1, 1) + timedelta(days=n))}  # (no duplicate case)
                try:
                    answer = client.post("/api/v1/casi", json=body)
                except httpx.TransportError:
                    break
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])
                if len(acknowledged) == 25:
                    os.kill(server.pid, signal.SIGKILL)  # in the middle of the stream of writes
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)
    assert len(acknowledged) >= 25
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(case_t.c.id)).scalars())
        audited = set(conn.execute(sa.select(transition_t.c.case_id).where(transition_t.c.seq == 1)).scalars())
    engine.dispose()
    assert set(acknowledged) <= stored and set(acknowledged) <= audited
