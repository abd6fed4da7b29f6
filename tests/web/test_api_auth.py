"""Who may go on after a password change or a disabled account, how HTTP Basic failures are throttled (by client
address and username, never locking the person out of the web login), and password checks that leave the event
loop free for everyone else."""
from __future__ import annotations

import asyncio
import base64
import time

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from config.settings import get_settings
from services.auth import disable_user, set_password, use_password_hasher
from services.basic_auth import DEFAULT_API_THROTTLE
from store.db import cached_engine

from .conftest import CSRF_RE, PASSWORD

NEW_PASSWORD = "nuova-parola-chiave-lunga"
API_CASES = "/api/v1/casi"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def web_login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    token = CSRF_RE.search(client.get("/accesso").text).group(1)
    return client.post("/accesso", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def assert_logged_out(app, cookie: str) -> None:
    replay = TestClient(app, cookies={"legami_sessione": cookie})
    page = replay.get("/profilo", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/accesso")
    assert replay.get(API_CASES).status_code == 401


def logged_in_cookie(client_for, username: str) -> tuple[TestClient, str]:
    client = client_for(username)
    assert client.get("/profilo", follow_redirects=False).status_code == 200
    assert client.get(API_CASES).status_code == 200
    return client, client.cookies.get("legami_sessione")


@pytest.fixture
def cli_on(web_engine, db_url, monkeypatch):
    """`legami ...` on the web test's own database."""
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    cached_engine.cache_clear()
    get_settings.cache_clear()


# ----------------------------------------------------------------------------- sessions end with the password


def test_a_password_change_ends_the_users_sessions_on_pages_and_api(app, client_for, web_engine):
    _, cookie = logged_in_cookie(client_for, "as.rossi")
    _, other = logged_in_cookie(client_for, "as.verdi")
    set_password(web_engine, "as.rossi", NEW_PASSWORD)
    assert_logged_out(app, cookie)
    assert TestClient(app, cookies={"legami_sessione": other}).get(API_CASES).status_code == 200  # others go on
    assert web_login(TestClient(app), "as.rossi", NEW_PASSWORD).status_code == 303


def test_set_password_from_the_command_line_ends_the_users_sessions(app, client_for, cli_on):
    _, cookie = logged_in_cookie(client_for, "as.rossi")
    result = cli_on("user", "set-password", "as.rossi", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert_logged_out(app, cookie)


def test_disabling_a_user_ends_their_sessions_and_their_basic_access_at_once(app, client_for, web_engine):
    _, cookie = logged_in_cookie(client_for, "as.rossi")
    integration = TestClient(app, headers=basic("as.rossi"))
    assert integration.get(API_CASES).status_code == 200  # now a verified (cached) credential
    disable_user(web_engine, "as.rossi")
    assert_logged_out(app, cookie)
    assert integration.get(API_CASES).status_code == 401
    assert web_login(TestClient(app), "as.rossi").status_code == 401


def test_disabling_a_user_from_the_command_line_ends_their_sessions(app, client_for, cli_on):
    _, cookie = logged_in_cookie(client_for, "as.rossi")
    result = cli_on("user", "disable", "as.rossi")
    assert result.exit_code == 0, result.output
    assert "disabilitat" in result.output
    assert_logged_out(app, cookie)
    assert cli_on("user", "enable", "as.rossi").exit_code == 0
    assert web_login(TestClient(app), "as.rossi").status_code == 303


def test_an_old_basic_password_stops_working_at_once_after_a_change_even_if_verified_just_before(app, web_engine):
    old = TestClient(app, headers=basic("as.rossi"))
    assert old.get(API_CASES).status_code == 200
    set_password(web_engine, "as.rossi", NEW_PASSWORD)
    assert old.get(API_CASES).status_code == 401
    assert TestClient(app, headers=basic("as.rossi", NEW_PASSWORD)).get(API_CASES).status_code == 200


# ----------------------------------------------------------------------------- HTTP Basic throttle


def test_six_wrong_basic_calls_do_not_lock_the_person_out_of_the_web_login(app, web_engine):
    attacker = TestClient(app, headers=basic("as.rossi", "sbagliata-davvero"))
    for _ in range(6):
        assert attacker.get(API_CASES).status_code == 401
    assert web_login(TestClient(app), "as.rossi").status_code == 303


def test_many_wrong_basic_calls_from_one_address_throttle_that_address_only(app, web_engine):
    attacker = TestClient(app, client=("10.0.0.9", 5000), headers=basic("as.rossi", "sbagliata-davvero"))
    answers = [attacker.get(API_CASES) for _ in range(DEFAULT_API_THROTTLE.max_failures + 1)]
    assert [a.status_code for a in answers[:-1]] == [401] * DEFAULT_API_THROTTLE.max_failures
    refused = answers[-1]
    assert refused.status_code == 429
    assert "troppi tentativi" in refused.json()["detail"] and int(refused.headers["retry-after"]) > 0
    # the right password from the throttled address waits too; from another address it works
    right_from_attacker = TestClient(app, client=("10.0.0.9", 5001), headers=basic("as.rossi"))
    assert right_from_attacker.get(API_CASES).status_code == 429
    elsewhere = TestClient(app, client=("10.0.0.20", 5000), headers=basic("as.rossi"))
    assert elsewhere.get(API_CASES).status_code == 200
    assert web_login(TestClient(app, client=("10.0.0.9", 5002)), "as.rossi").status_code == 303


def test_one_address_trying_many_usernames_is_throttled_for_all_of_them(app, web_engine):
    limit = DEFAULT_API_THROTTLE.max_failures_per_address
    statuses = [TestClient(app, client=("10.0.0.7", 5000), headers=basic(f"utente.{i}", "sbagliata-davvero"))
                .get(API_CASES).status_code for i in range(limit + 1)]
    assert statuses[:limit] == [401] * limit and statuses[-1] == 429
    assert TestClient(app, client=("10.0.0.7", 5000), headers=basic("as.rossi")).get(API_CASES).status_code == 429
    assert TestClient(app, client=("10.0.0.8", 5000), headers=basic("as.rossi")).get(API_CASES).status_code == 200


# ----------------------------------------------------------------------------- the event loop stays free


@pytest.fixture
def slow_hashes():
    """A deliberately slow argon2id (~0.3-1 s a verification) so that a blocked event loop shows."""
    previous = use_password_hasher(PasswordHasher(time_cost=12, memory_cost=65536, parallelism=1))
    yield
    use_password_hasher(previous)


def test_a_password_check_does_not_hold_up_other_requests(app, web_engine, slow_hashes):
    set_password(web_engine, "udp.neri", NEW_PASSWORD)  # hashed with the slow parameters

    async def race() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            start = time.perf_counter()

            async def timed(coro) -> float:
                await coro
                return time.perf_counter() - start

            async def other() -> float:
                await asyncio.sleep(0.02)
                return await timed(client.get("/accesso"))

            slow = timed(client.get(API_CASES, headers=basic("udp.neri", NEW_PASSWORD)))
            return tuple(await asyncio.gather(slow, other()))

    slow_done, other_done = asyncio.run(race())
    assert slow_done > 0.2, "the slow hasher was not slow: the test proves nothing"
    # a blocked loop would start the other request only after the hash: it would end after the slow one.
    # On a busy 2-core machine the other request may itself be slowed by the hashing thread, so the test
    # asks only for the order, which a blocked loop cannot give.
    assert other_done < slow_done, (other_done, slow_done)


def test_a_verified_basic_credential_is_not_verified_again_for_a_while(app, web_engine, slow_hashes):
    set_password(web_engine, "udp.neri", NEW_PASSWORD)
    integration = TestClient(app, headers=basic("udp.neri", NEW_PASSWORD))
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        assert integration.get(API_CASES).status_code == 200
        timings.append(time.perf_counter() - start)
    assert timings[0] > 0.2 and timings[1] < timings[0] / 2, timings
    wrong = TestClient(app, headers=basic("udp.neri", NEW_PASSWORD + "x"))
    assert wrong.get(API_CASES).status_code == 401  # a failure is never a cache hit


def test_a_web_process_queues_blocking_work_on_the_few_threads_its_setting_names(web_engine):
    """Forty threads fighting over the GIL made the 50-client p95 uneven (bench/api); the pool is a setting."""
    from config.settings import Settings
    from web.app import create_app

    app = create_app(settings=Settings(web_threads=3), engine=web_engine)
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: _thread_tokens())
    assert tokens == 3


async def _thread_tokens() -> float:
    import anyio.to_thread

    return anyio.to_thread.current_default_thread_limiter().total_tokens
