"""The interactive docs: Swagger UI at /api/docs/ and Redoc at /api/redoc/, from the stack alone.

The browser test (tests/e2e/test_api_docs_browser.py) drives them through nginx; these check
what the pages are made of: the schema URL, the token scheme, and no address outside the stack.
"""

import re

import pytest
from django.contrib.staticfiles import finders

EXTERNAL_URL = re.compile(r"""(?:https?:)?//[^\s"'<>]+""")


@pytest.fixture
def page(anonymous_client):
    def get(path: str) -> str:
        response = anonymous_client.get(path)
        assert response.status_code == 200, response.content[:300]
        assert response["Content-Type"].startswith("text/html")
        return response.content.decode()

    return get


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_are_public_and_reference_nothing_outside_the_stack(page, path):
    html = page(path)

    assert EXTERNAL_URL.findall(html) == []
    assert "/api/schema/" in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_forbid_the_browser_any_other_origin(anonymous_client, path):
    # Redoc's bundle asks a CDN for its vendor's logo; this policy is what stops it.
    policy = dict(
        directive.split(" ", 1)
        for directive in anonymous_client.get(path)["Content-Security-Policy"].split("; ")
    )

    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "style-src", "img-src", "connect-src", "worker-src"):
        sources = set(policy[directive].split())
        assert sources <= {"'self'", "'unsafe-inline'", "data:", "blob:"}, directive


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "assets"),
    [
        (
            "/api/docs/",
            ["swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui-bundle.js"],
        ),
        ("/api/redoc/", ["redoc/bundles/redoc.standalone.js"]),
    ],
)
def test_the_pages_load_the_sidecar_files_which_collectstatic_finds(page, path, assets):
    html = page(path)

    for asset in assets:
        assert f"/static/drf_spectacular_sidecar/{asset}" in html
        assert finders.find(f"drf_spectacular_sidecar/{asset}"), asset


@pytest.mark.django_db
def test_the_schema_offers_the_token_scheme_and_says_how_to_use_it(anonymous_client):
    schema = anonymous_client.get("/api/schema/").json()

    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    assert "`Token <key>`" in schema["info"]["description"]
    assert {"tokenAuth": []} in schema["paths"]["/api/data/"]["get"]["security"]
