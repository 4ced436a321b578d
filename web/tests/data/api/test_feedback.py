"""POST /api/feedback/ and GET /api/feedback/summary/: a client's true label stored as an
unverified `data` row with its provenance, and counted per model version (the summary and the
Prometheus counter). The ML service is the loopback stand-in, asked whether the version exists."""

import pytest
from prometheus_client import REGISTRY

from data.models import Data, Feedback

pytestmark = pytest.mark.django_db

URL = "/api/feedback/"
SUMMARY = "/api/feedback/summary/"
OLD = "20261127T010203Z-3fa2c1"
NEW = "20261201T010203Z-77aa00"


def body(**changes) -> dict:
    return {
        "text": "A modal text editor",
        "predicted_label": "libs",
        "model_version": OLD,
        "true_label": "editors",
        **changes,
    }


def counted(version: str, correct: str) -> float:
    labels = {"model_version": version, "correct": correct}
    return REGISTRY.get_sample_value("textclf_feedback_total", labels) or 0.0


@pytest.fixture
def known_versions(ml_service, ml_url):
    """The stand-in knows OLD and NEW (any number of times) and nothing else."""
    ml_service.assert_all_requests_are_fired = False
    for version in (OLD, NEW):
        ml_service.get(f"{ml_url}/models/{version}", json={"version": version})
    return ml_service


def test_feedback_is_stored_as_an_unverified_row_with_its_provenance(
    api_client, user, known_versions
):
    response = api_client.post(URL, body(), format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    row = Data.objects.get()
    assert (row.text, row.label, row.source, row.created_by_id, row.verified) == (
        "A modal text editor",
        "editors",
        "feedback",
        user.id,
        False,
    )
    record = Feedback.objects.get()
    assert (record.data_id, record.predicted_label, record.model_version, record.correct) == (
        row.id,
        "libs",
        OLD,
        False,
    )
    assert record.created_by_id == user.id
    assert answer["id"] == record.id
    assert answer["data"]["id"] == row.id
    assert (answer["data"]["source"], answer["data"]["verified"]) == ("feedback", False)
    assert (answer["predicted_label"], answer["model_version"], answer["correct"]) == (
        "libs",
        OLD,
        False,
    )


def test_the_summary_counts_per_version(api_client, known_versions):
    for version, predicted, true in [
        (OLD, "libs", "editors"),
        (OLD, "editors", "editors"),
        (OLD, "vcs", "editors"),
        (OLD, "libs", "libs"),
        (NEW, "editors", "editors"),
    ]:
        response = api_client.post(
            URL, body(model_version=version, predicted_label=predicted, true_label=true)
        )
        assert response.status_code == 201, response.json()

    response = api_client.get(SUMMARY)

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"model_version": NEW, "count": 1, "correct": 1, "accuracy": 1.0},
            {"model_version": OLD, "count": 4, "correct": 2, "accuracy": 0.5},
        ]
    }


def test_the_summary_of_no_feedback_is_empty(api_client):
    assert api_client.get(SUMMARY).json() == {"results": []}


def test_feedback_is_counted_once_committed(
    api_client, known_versions, django_capture_on_commit_callbacks
):
    before = (counted(OLD, "true"), counted(OLD, "false"))

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(URL, body(predicted_label="editors"), format="json")
        api_client.post(URL, body(), format="json")
        api_client.post(URL, body(), format="json")

    assert (counted(OLD, "true"), counted(OLD, "false")) == (before[0] + 1, before[1] + 2)
    exposition = api_client.get("/metrics").content.decode()
    assert f'textclf_feedback_total{{correct="false",model_version="{OLD}"}}' in exposition


def test_an_unknown_version_is_a_400_and_nothing_is_saved_or_counted(
    api_client, ml_service, ml_url, django_capture_on_commit_callbacks
):
    ml_service.get(
        f"{ml_url}/models/20990101T000000Z-000000", json={"detail": "No such version."}, status=404
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, body(model_version="20990101T000000Z-000000"))

    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid input: model_version: No such model version."
    assert not Data.objects.exists()
    assert not Feedback.objects.exists()
    assert counted("20990101T000000Z-000000", "false") == 0


def test_the_ml_service_down_is_a_503_and_nothing_is_saved(api_client, settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    response = api_client.post(URL, body(), format="json")

    assert response.status_code == 503
    assert response.json()["detail"]
    assert not Data.objects.exists()
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": 5}, "text"),
        ({"true_label": ""}, "true_label"),
        ({"true_label": "x" * 101}, "true_label"),
        ({"predicted_label": None}, "predicted_label"),
        ({"model_version": "../models"}, "model_version"),
        ({"model_version": "v" * 101}, "model_version"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_feedback_is_a_400_naming_the_field(api_client, changes, field):
    # No ML service is configured: validation answers before it would be asked.
    response = api_client.post(URL, body(**changes), format="json")

    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert not Data.objects.exists()


@pytest.mark.parametrize("missing", ["text", "predicted_label", "model_version", "true_label"])
def test_every_field_is_required(api_client, missing):
    sent = body()
    del sent[missing]

    response = api_client.post(URL, sent, format="json")

    assert response.status_code == 400
    assert missing in response.json()["detail"]


@pytest.mark.parametrize(("method", "path"), [("post", URL), ("get", SUMMARY)])
def test_anonymous_is_401(anonymous_client, method, path):
    response = getattr(anonymous_client, method)(path, body(), format="json")

    assert response.status_code == 401
    assert response.json()["detail"]
    assert not Data.objects.exists()
