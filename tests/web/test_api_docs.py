"""/api/docs is Swagger UI served by Legami itself under the strict CSP: its files come from the npm registry
through the lockfile (`legami assets`), its start-up script is a static file, and nothing on the page is
inline script or from another site."""
from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from web.assets import FRONTEND, VENDOR


def test_the_api_docs_page_loads_swagger_ui_from_legami_itself_with_no_inline_script(app):
    client = TestClient(app)
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert [attrs.strip() for attrs, _ in scripts] == ['src="/static/vendor/swagger-ui/swagger-ui-bundle.js"',
                                                      'src="/static/api-docs.js"']
    assert all(body.strip() == "" for _, body in scripts), "no inline script: the CSP would block it"
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "nothing from another site"
    assert 'data-url="/api/openapi.json"' in page.text
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                  "/static/api-docs.js"):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Legami API"


def test_swagger_ui_is_pinned_in_the_lockfile_like_the_other_front_end_assets():
    package = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    version = package["dependencies"]["swagger-ui-dist"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, as for Bootstrap Italia and htmx"
    assert lock["packages"]["node_modules/swagger-ui-dist"]["version"] == version
    assert (VENDOR / "swagger-ui" / "swagger-ui-bundle.js").exists()
