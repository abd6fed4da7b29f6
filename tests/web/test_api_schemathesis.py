"""The OpenAPI document is valid, and over a thousand requests generated from it never make the API fail (5xx).

Schemathesis generates requests for every operation, valid ones (positive) and ones that break the schema on
purpose (negative), sends them to the ASGI app in process and checks `not_a_server_error`. SQLite only (the
both-backends fixture would double the time), derandomised so CI sees the same requests every run. Requests
carry valid HTTP Basic credentials of csc.bianchi (widest case scope) — a generated wrong password would
lock the account after five failures and turn the rest of the run into 401s; a few operations are also
called without credentials, which must be 401, not 5xx.
"""
from __future__ import annotations

import base64
import shutil
from collections import Counter

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from services.auth import create_user, use_password_hasher
from services.cases import CaseService
from store.db import make_engine
from tests.district_world import build_world
from web.app import create_app

from .conftest import ALL_USERS, NOW, PASSWORD

EXAMPLES = {GenerationMode.POSITIVE: 62, GenerationMode.NEGATIVE: 56}
UNAUTHENTICATED_EXAMPLES = 6
MIN_REQUESTS = 1000


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def tiny_hashes():
    """Basic credentials are verified on every request: an argon2id this cheap keeps 1,000 of them quick."""
    previous = use_password_hasher(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    yield
    use_password_hasher(previous)


@pytest.fixture
def sqlite_app(tmp_path, sqlite_template, tiny_hashes):
    path = tmp_path / "legami.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    for username, role, area, provider in ALL_USERS:
        create_user(engine, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                    sub_ambito=area, provider_codice=provider, password=PASSWORD,
                    is_admin=username == "udp.admin", now=NOW)
    build_world(CaseService(engine, clock=lambda: NOW))
    yield create_app(engine=engine, clock=lambda: NOW)
    engine.dispose()


def test_the_openapi_document_is_valid_and_lists_every_api_operation(sqlite_app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", sqlite_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # .ok() raises on an invalid operation
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "GET /api/v1/tipi", "GET /api/v1/casi", "POST /api/v1/casi", "GET /api/v1/casi/{caso_id}",
        "GET /api/v1/casi/{caso_id}/transizioni", "POST /api/v1/casi/{caso_id}/transizioni/{nome}",
        "GET /api/v1/casi/{caso_id}/scadenze", "GET /api/v1/scadenze", "GET /api/v1/indicatori",
    }
    assert schema.raw_schema["openapi"].startswith("3.1")
    schema.validate()  # against the OpenAPI 3.1 meta-schema shipped with schemathesis; raises if invalid
    broken = {**schema.raw_schema, "paths": {"/x": {"get": {"responses": "nessuna"}}}}
    with pytest.raises(Exception, match="nessuna"):  # the validation does look at the document
        schemathesis.openapi.from_dict(broken).validate()


def test_a_thousand_generated_requests_cause_no_server_error(sqlite_app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", sqlite_app)
    statuses: Counter[int] = Counter()
    sent: Counter[str] = Counter()

    def run(operation, mode: GenerationMode, headers: dict[str, str], examples: int) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def one(case) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            sent[operation.label] += 1
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        one()

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            run(operation, mode, basic("csc.bianchi"), examples)  # replaces any generated Authorization header
    authenticated = sum(sent.values())
    refused_with_credentials = statuses[401]
    for operation in operations:
        run(operation, GenerationMode.POSITIVE, {"Authorization": ""}, UNAUTHENTICATED_EXAMPLES)
    anonymous = sum(sent.values()) - authenticated

    total = sum(statuses.values())
    assert total >= MIN_REQUESTS, f"solo {total} richieste generate: {dict(sent)}"
    assert not any(code >= 500 for code in statuses)
    assert refused_with_credentials == 0  # no lockout: every authenticated request was let in
    assert anonymous >= len(operations) and statuses[401] == anonymous
    assert statuses[200] + statuses[201] > 0 and statuses[422] > 0  # both valid and refused requests were made
