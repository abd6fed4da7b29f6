"""Browser tests: the real application served by uvicorn on a free port, driven by Playwright in Debian's
headless Chromium (Playwright cannot download its own browser here).

A missing browser FAILS the run (it must not silently skip). Screenshots of the main pages are written to
$LEGAMI_ARTIFACTS/screenshots (default artifacts/screenshots), kept by CI as artefacts.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from services.auth import create_user, use_password_hasher
from services.cases import CaseService
from services.setup import init_database
from store.db import make_engine
from tests.conftest import FAST_HASHER
from tests.district_world import EXTRA_USERS, build_world
from tests.integration.conftest import NOW, USERS
from web.app import create_app
from web.assets import ensure_assets

PASSWORD = "cavallo-batteria-graffetta"
CHROMIUM = os.environ.get("LEGAMI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("LEGAMI_ARTIFACTS", "artifacts")) / "screenshots"
ALL_USERS = USERS + EXTRA_USERS + [("udp.admin", "planning_office", None, None)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The application on http://127.0.0.1:<port> over a SQLite database holding the district world."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium non trovato in {CHROMIUM}: installare il pacchetto Debian «chromium» "
                    "(apt-get install -y chromium) o impostare LEGAMI_CHROMIUM")
    ensure_assets()
    previous = use_password_hasher(FAST_HASHER)
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'legami.db'}"
    engine = make_engine(url)
    init_database(url, engine)
    for username, role, area, provider in ALL_USERS:
        create_user(engine, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                    sub_ambito=area, provider_codice=provider, password=PASSWORD,
                    is_admin=username == "udp.admin", now=NOW)
    world = build_world(CaseService(engine, clock=lambda: NOW))
    app = create_app(engine=engine, clock=lambda: NOW)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("il server web di prova non è partito")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "world": world, "engine": engine}
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    use_password_hasher(previous)


@pytest.fixture(scope="module")
def browser():
    """Per module: Playwright's sync API keeps an event loop running in this thread while it lives, and
    the asyncio tests that follow in the same session need it gone."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page() → a Page in a fresh browser context (its own cookies); closed after the test."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server["url"], locale="it-IT", timezone_id="Europe/Rome",
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def log_in(page: Page, username: str, password: str = PASSWORD) -> Page:
    page.goto("/accesso")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def clean_screenshots():
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    yield
