"""`legami demo` gives a newcomer a login per role; `legami serve` serves the pages."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from domain.workflow import Role
from services.auth import AccountError, authenticate
from services.demo import generate_demo
from services.demo_access import DEMO_ADMIN, DEMO_PASSWORD, demo_logins
from services.setup import init_database
from store.db import make_engine


@pytest.fixture
def demo_engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    init_database(url, engine)
    generate_demo(engine, scale=0.05)
    yield engine
    engine.dispose()


def test_the_demo_prints_a_working_login_for_every_role_and_an_administrator(demo_engine):
    logins = demo_logins(demo_engine)
    roles = {login.role for login in logins}
    assert {r.value for r in (Role.SOCIAL_WORKER, Role.SUBAREA_COORDINATOR, Role.PLANNING_OFFICE, Role.CSC_ADMIN,
                              Role.PROVIDER, Role.EVALUATOR, Role.HEALTH_ASSESSOR)} <= roles
    for login in logins:
        principal = authenticate(demo_engine, login.username, DEMO_PASSWORD)
        assert principal.role.value == (login.role if login.role != "admin" else Role.EVALUATOR.value)
    admin = authenticate(demo_engine, DEMO_ADMIN, DEMO_PASSWORD)
    assert admin.is_admin
    again = demo_logins(demo_engine)  # a second run (demo already there): the same logins
    assert [(x.role, x.username) for x in again] == [(x.role, x.username) for x in logins]


def test_demo_credentials_are_refused_in_production(demo_engine):
    with pytest.raises(AccountError, match="produzione"):
        demo_logins(demo_engine, environment="production")


def test_legami_serve_answers_on_the_given_port_and_stops_on_sigterm(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LEGAMI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--senza-flussi"], env=env, cwd=os.getcwd(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accesso", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"legami serve non risponde: {process.stdout.read() if process.stdout else ''}")
                time.sleep(0.3)
        assert "Accedi a Legami" in body
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, process.returncode  # a clean shutdown, not killed by the signal
