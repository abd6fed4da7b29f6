"""/api/v1/casi in pages: still a plain list (older clients read it unchanged), by increasing case number, with
the exact total in `X-Totale` and the next page in a `Link` header (rel="next") built on the `dopo` cursor."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.test_api import API, api


def next_link(response) -> str | None:
    found = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
    return found.group(1) if found else None


def test_following_the_next_links_visits_every_case_once_by_increasing_number(world, app):
    client = api(app, "coord.crema")
    whole = client.get(f"{API}/casi", params={"limit": 500})
    everyone = [c["id"] for c in whole.json()]
    assert len(everyone) > 4 and everyone == sorted(everyone)
    assert whole.headers["x-totale"] == str(len(everyone)) and next_link(whole) is None
    seen, url, pages = [], f"{API}/casi?limit=2", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["x-totale"] == str(len(everyone))
        seen += [c["id"] for c in response.json()]
        url, pages = next_link(response), pages + 1
    assert seen == everyone and pages == -(-len(everyone) // 2)


def test_the_filters_stay_in_the_next_link_and_the_total_counts_only_what_matches(world, app):
    client = api(app, "coord.crema")
    first = client.get(f"{API}/casi", params={"tipo": "sad_caso", "limit": 1})
    assert first.headers["x-totale"] == "2" and len(first.json()) == 1
    assert "tipo=sad_caso" in next_link(first) and f"dopo={first.json()[0]['id']}" in next_link(first)
    second = client.get(next_link(first))
    assert {c["id"] for c in first.json() + second.json()} == {world["sad_ente01"], world["sad_ente02"]}
    assert next_link(second) is None


def test_a_cursor_that_is_no_case_number_is_an_italian_error_naming_it(world, app):
    client = api(app, "coord.crema")
    for bad in ("x", "0", str(2**31)):
        response = client.get(f"{API}/casi", params={"dopo": bad})
        assert response.status_code == 422
        assert [e["etichetta"] for e in response.json()["errori"]] == ["Dopo il caso"]


def test_the_openapi_document_declares_the_cursor_and_the_paging_headers(app):
    spec = TestClient(app).get("/api/openapi.json").json()["paths"]["/api/v1/casi"]["get"]
    assert "dopo" in {p["name"] for p in spec["parameters"]}
    assert {"X-Totale", "Link"} <= set(spec["responses"]["200"]["headers"])
    assert spec["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
