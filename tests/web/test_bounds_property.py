"""Property: whatever bad value reaches any field of any declared form, through the API or the page form, the
answer is an Italian 422 naming that field, nothing is written, and nothing fails (no 5xx).

The targets are derived, not listed: every transition that some user of the district world may fire on some
case of it (as the API's own «transizioni» answer lists them), plus every opening transition. Bad values are
chosen by the field's kind: over-long text and lists, control characters, dates out of 1900-2100, signed zero,
huge integers, wrong types. Derandomised and bounded, so CI sees the same requests every run (< 60 s).
"""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import sqlalchemy as sa
import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.bounds import Bounded
from domain.registry import all_workflows
from store.tables import case_t, transition_t
from tests.district_world import CREMA
from tests.web.conftest import ALL_USERS
from tests.web.test_api import API, api

_UNIONS = (Union, types.UnionType)
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85"]
ENGLISH = re.compile(r"Input should|Field required|value is not|valid integer|Value error", re.IGNORECASE)
API_EXAMPLES, FORM_EXAMPLES = 70, 50


def _strip(annotation):
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in _UNIONS and len([a for a in get_args(annotation) if a is not type(None)]) == 1:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _kind(annotation) -> str:
    a = _strip(annotation)
    origin = get_origin(a)
    if isinstance(a, type) and issubclass(a, BaseModel):
        return "model"
    if origin in (list, tuple, set, frozenset):
        return "list"
    if origin is dict:
        return "dict"
    if origin is Literal or (isinstance(a, type) and issubclass(a, Enum)):
        return "choice"
    return {str: "str", date: "date", Decimal: "decimal", float: "decimal", int: "int", bool: "bool"}.get(a, "other")


def bad_values(model: type[Bounded], name: str) -> st.SearchStrategy[Any]:
    """Values every field of that kind must refuse."""
    info = model.model_fields[name]
    kind = _kind(info.annotation)
    control = st.builds(lambda c: f"ab{c}cd", st.sampled_from(CONTROL))
    wrong = st.just({"a": 1})
    if kind == "str":
        return st.one_of(st.just("x" * (model.bound_of(name) + 1)), control, wrong)
    if kind == "list":
        return st.one_of(st.just(["x"] * (model.bound_of(name) + 1)), control.map(lambda s: [s]), wrong)
    if kind == "dict":
        return st.one_of(control.map(lambda s: {s: "1"}), st.just("testo"))
    if kind == "model":
        nested = _strip(info.annotation)
        texts = [n for n, i in nested.model_fields.items() if _kind(i.annotation) == "str"]
        return st.one_of(st.just("testo"), st.tuples(st.sampled_from(texts), control).map(lambda p: {p[0]: p[1]})
                         ) if texts else st.just("testo")
    if kind == "date":
        return st.one_of(st.sampled_from(["0001-01-01", "01/01/0001", "31/12/2101", "1899-12-31"]), control, wrong)
    if kind == "decimal":
        return st.one_of(st.sampled_from(["-0", "-0.00", "1e400"]), control, wrong)
    if kind == "int":
        return st.one_of(st.just(10**30), st.just(-(10**30)), control, wrong)
    if kind == "bool":
        return st.one_of(st.just("forse"), wrong)
    return st.one_of(control, wrong)


def _transition_counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(transition_t)).scalar_one())


@pytest.fixture
def targets(app, world):
    """(user, case id or None, case type, transition, model): every step with data someone may fire."""
    found: dict[tuple, tuple] = {}
    for username, *_ in ALL_USERS:
        client = api(app, username)
        for case_id in world.values():
            answer = client.get(f"{API}/casi/{case_id}/transizioni")
            if answer.status_code != 200:
                continue
            case_type = client.get(f"{API}/casi/{case_id}").json()["tipo"]
            for t in answer.json():
                model = next(x for x in all_workflows() if x.case_type == case_type).transition(t["nome"]).data
                if model is not None:
                    found.setdefault((case_id, t["nome"]), (username, case_id, case_type, t["nome"], model))
    roles = {username: role for username, role, *_ in ALL_USERS}
    for wf in all_workflows():
        for t in wf.transitions:
            user = next((u for u, r in roles.items() if t.opening and t.data is not None and r in {x.value for x in t.roles}), None)
            if user is not None:
                found.setdefault((wf.case_type, t.name), (user, None, wf.case_type, t.name, t.data))
    assert len(found) >= 20
    return sorted(found.values(), key=lambda x: (str(x[1]), x[3]))


def _named(errors: list[dict[str, str]], field: str) -> list[dict[str, str]]:
    return [e for e in errors if e["campo"] == field or e["campo"].startswith(f"{field}.")]


def test_bad_values_through_the_api_are_an_italian_422_naming_the_field_and_write_nothing(app, web_engine, targets):
    clients: dict[str, Any] = {}
    before = _transition_counts(web_engine)

    @settings(max_examples=API_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        user, case_id, case_type, name, model = data.draw(st.sampled_from(targets))
        field = data.draw(st.sampled_from(sorted(model.model_fields)))
        value = data.draw(bad_values(model, field))
        client = clients.setdefault(user, api(app, user))
        if case_id is None:
            body = {"tipo": case_type, "transizione": name, "dati": {field: value}}
            if not next(w for w in all_workflows() if w.case_type == case_type).district_level:
                body["comune_istat"] = CREMA
            r = client.post(f"{API}/casi", json=body)
        else:
            r = client.post(f"{API}/casi/{case_id}/transizioni/{name}", json={"dati": {field: value}})
        assert r.status_code == 422, (case_type, name, field, value, r.status_code, r.text[:300])
        named = _named(r.json()["errori"], field)
        assert named, (case_type, name, field, value, r.json())
        assert all(e["messaggio"] and not ENGLISH.search(e["messaggio"]) for e in named), named

    check()
    assert _transition_counts(web_engine) == before


def _form_values(model: type[Bounded], field: str, value: Any) -> dict[str, str] | None:
    """The flat form a person could submit with that value (None: a value no form input can carry)."""
    if isinstance(value, str):
        return {field: value}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {field: "\n".join(value)}
    if isinstance(value, dict) and _kind(model.model_fields[field].annotation) == "model":
        return {f"{field}.{k}": v for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, int) and not isinstance(value, bool):
        return {field: str(value)}
    return None


def test_bad_values_through_the_page_forms_are_an_italian_422_and_write_nothing(app, web_engine, targets, client_for):
    steps = [t for t in targets if t[1] is not None]
    clients: dict[str, Any] = {}
    tokens: dict[tuple[str, int], str] = {}
    before = _transition_counts(web_engine)

    @settings(max_examples=FORM_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        user, case_id, case_type, name, model = data.draw(st.sampled_from(steps))
        field = data.draw(st.sampled_from(sorted(model.model_fields)))
        form = _form_values(model, field, data.draw(bad_values(model, field)))
        if not form:
            return
        client = clients.get(user) or clients.setdefault(user, client_for(user))
        if (user, case_id) not in tokens:
            page = client.get(f"/casi/{case_id}")
            tokens[(user, case_id)] = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = client.post(f"/casi/{case_id}/transizioni/{name}", data={"csrf_token": tokens[(user, case_id)], **form},
                        follow_redirects=False)
        assert r.status_code == 422, (case_type, name, form if len(str(form)) < 300 else field, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
        label = model.model_fields[field].title or field
        assert html.escape(label) in r.text or label in html.unescape(r.text), (name, field)

    check()
    assert _transition_counts(web_engine) == before
