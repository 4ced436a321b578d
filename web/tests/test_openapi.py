"""The OpenAPI schema at /api/schema/ describes every endpoint, and the API keeps to it.

schemathesis generates requests (valid and invalid) for every operation from the schema and
sends them to the WSGI application, authenticated as staff; the ML service is replaced at its
HTTP boundary by a stand-in that answers as the real one does. No answer may be a 5xx, and
every answer must match the status codes, content types and bodies the schema documents.
"""

import json
import re
import uuid

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from observability.metrics import route_as_template
from tests.fake_ml_service import FakeMLService

VERSION = "20261127T010203Z-3fa2c1"
JOB = {
    "job_id": "6f1c1c4e-8d0a-4d8e-9a55-3c1f0f1d2b7a",
    "status": "succeeded",
    "error": None,
    "model_version": VERSION,
    "metrics": {"accuracy": 0.9, "f1_macro": 0.8},
    "n_samples": 100,
    "created_at": "2026-11-27T01:02:03Z",
    "started_at": "2026-11-27T01:02:04Z",
    "finished_at": "2026-11-27T01:02:30Z",
    "attempts": 1,
    "stats": {"peak_rss_bytes": 166400000, "fit_seconds": 0.3},
    "progress": {
        "phase": "publishing",
        "done": None,
        "total": None,
        "updated_at": "2026-11-27T01:02:29Z",
    },
}
MODEL = {
    "version": VERSION,
    "created_at": "2026-11-27T01:02:30Z",
    "n_samples": 100,
    "labels": ["editors", "libs"],
    "metrics": {"accuracy": 0.9},
    "parameters": {"classifier": "linear_svc"},
    "current": True,
}
PROBABILITIES = {"editors": 0.25, "libs": 0.75}
EVALUATION = {
    "per_label": {
        "editors": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2},
        "libs": {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1},
    },
    "confusion_matrix": {"labels": ["editors", "libs"], "matrix": [[1, 1], [0, 1]]},
}
RECIPES = {
    "selected": "word",
    "metric": "f1_macro",
    "score": 2 / 3,
    "budget_seconds": 120.0,
    "note": "Not evaluated: word_char (estimated to end beyond TRAIN_RECIPE_BUDGET_SECONDS=120).",
    "candidates": [
        {
            "name": "word",
            "description": "word TF-IDF",
            "status": "evaluated",
            "fit_seconds": 0.2,
            "accuracy": 0.67,
            "f1_macro": 2 / 3,
        },
        {
            "name": "word_char",
            "description": "word TF-IDF + character n-grams (char_wb, 2-5)",
            "status": "skipped",
            "reason": "Its fit was estimated at 400.0 s after 20.0 s spent.",
        },
    ],
}


@pytest.fixture
def staff_token(transactional_db) -> str:
    # transactional_db: the WSGI handler opens and closes connections per request, which a
    # test wrapped in one transaction would not survive.
    user = get_user_model().objects.create_user(username="schema-staff", is_staff=True)
    return Token.objects.create(user=user).key


def _prediction(explain: int | None) -> dict:
    prediction = {
        "label": "libs",
        "probabilities": PROBABILITIES,
        "known_token_share": 0.5,
        "unknown": False,
    }
    if explain:
        terms = [{"term": "library", "weight": 0.4}, {"term": "python", "weight": -0.1}]
        prediction["explanation"] = {
            "label": "libs",
            "score": 0.2,
            "intercept": -0.1,
            "terms": terms[:explain],
            "others_weight": 0.4 - sum(t["weight"] for t in terms[:explain]) - 0.1,
        }
    return prediction


def _predict(request):
    payload = json.loads(request.body)
    explain = payload.get("explain")
    if "texts" in payload:
        predictions = [_prediction(explain) for _ in payload["texts"]]
        return 200, {}, json.dumps({"predictions": predictions, "model_version": VERSION})
    return 200, {}, json.dumps({**_prediction(explain), "model_version": VERSION})


def _model(request):
    version = request.url.rstrip("/").split("/")[-1]
    if version != VERSION:
        return 404, {}, json.dumps({"detail": "Model version not found."})
    return 200, {}, json.dumps({**MODEL, "recipes": RECIPES, "evaluation": EVALUATION})


def _activate(request):
    version = request.url.rstrip("/").split("/")[-2]
    if version != VERSION:
        return 404, {}, json.dumps({"detail": "Unknown model version."})
    return 200, {}, json.dumps({"current": version})


def _job(request):
    job_id = request.url.rstrip("/").split("/")[-1]
    if job_id != JOB["job_id"]:
        return 404, {}, json.dumps({"detail": "Unknown training job."})
    return 200, {}, json.dumps(JOB)


@pytest.fixture
def ml_stand_in(settings):
    """Answers like the ML service, for every route the gateway calls."""
    with FakeMLService(assert_all_requests_are_fired=False) as fake:
        settings.ML_SERVICE_URL = fake.url
        base = re.escape(fake.url)
        queued = {"job_id": str(uuid.uuid4()), "status": "queued"}
        fake.post(re.compile(f"{base}/train$"), json=queued, status=202)
        fake.get(re.compile(rf"{base}/train(\?.*)?$"), json={"results": [JOB]})
        fake.add_callback("GET", re.compile(f"{base}/train/[^/?]+$"), callback=_job)
        fake.add_callback("POST", re.compile(f"{base}/predict$"), callback=_predict)
        fake.get(re.compile(f"{base}/models$"), json={"current": VERSION, "results": [MODEL]})
        fake.add_callback("POST", re.compile(f"{base}/models/[^/]+/activate$"), callback=_activate)
        fake.add_callback("GET", re.compile(f"{base}/models/[^/]+$"), callback=_model)
        yield fake


def generated_schema() -> dict:
    """What /api/schema/ serves (test_the_served_schema_is_the_generated_one checks that).

    Built without a request because pytest collects this module before the test database
    (and the URLconf's first request) exists.
    """
    return SchemaGenerator().get_schema(request=None, public=True)


# 413 rejects invalid data too: a login body past AUTH_MAX_BODY_BYTES (e.g. a password over its
# maxLength, written as \uXXXX escapes) is refused by size before its fields are read.
_REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
_REJECTIONS += ["5xx"]  # schemathesis's defaults, plus 413
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(generated_schema(), default=str)),
    config=SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": _REJECTIONS}}}
    ),
)
schema.app = application


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_schema(case, staff_token, ml_stand_in):
    case.call_and_validate(
        headers={"Authorization": f"Token {staff_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
            response_headers_conformance,
        ],
    )


def _api_routes(patterns, prefix: str = "") -> set[str]:
    routes = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            routes.add(route)
    return routes


@pytest.mark.django_db
def test_the_schema_lists_every_api_route(api_client):
    documented = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    # Django's session login/logout pages for the browsable API, the schema and its two pages.
    undocumented = {
        "api/auth/login/",
        "api/auth/logout/",
        "api/schema/",
        "api/docs/",
        "api/redoc/",
    }

    routes = _api_routes(get_resolver().url_patterns) - undocumented

    assert {route_as_template(route) for route in routes} == set(documented)


@pytest.mark.django_db
def test_the_schema_is_public_and_the_same_for_everyone(anonymous_client, api_client):
    # The docs pages load it before a token is entered; every operation still needs one.
    response = anonymous_client.get("/api/schema/")

    assert response.status_code == 200
    assert response.json() == api_client.get("/api/schema/").json()
    assert anonymous_client.get("/api/data/").status_code == 401


@pytest.mark.django_db
def test_the_schema_is_json_by_default_and_yaml_on_request(api_client):
    assert api_client.get("/api/schema/").json()["openapi"].startswith("3.")
    yaml = api_client.get("/api/schema/", {"format": "yaml"})
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi: 3.")


@pytest.mark.django_db
def test_the_served_schema_is_the_generated_one(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(generated_schema(), default=str))


@pytest.mark.django_db
def test_the_schema_documents_a_jobs_progress(api_client):
    components = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()[
        "components"
    ]["schemas"]
    job = components["TrainingJob"]["properties"]
    assert job["progress"]["allOf"][0]["$ref"] == "#/components/schemas/TrainingProgress"
    assert job["progress"]["nullable"] is True
    progress = components["TrainingProgress"]
    assert set(progress["properties"]) == {"phase", "done", "total", "updated_at"}
    phase_enum = components[progress["properties"]["phase"]["allOf"][0]["$ref"].split("/")[-1]]
    assert phase_enum["enum"] == ["reading_rows", "fitting", "evaluating", "publishing"]
