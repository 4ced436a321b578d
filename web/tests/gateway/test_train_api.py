import json

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/train/"
JOB_ID = "6f1c1c4e-8d0a-4d8e-9a55-3c1f0f1d2b7a"
JOB = {
    "job_id": JOB_ID,
    "status": "succeeded",
    "error": None,
    "model_version": "20261127T010203Z-3fa2c1",
    "metrics": {"accuracy": 0.9},
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


def test_staff_can_start_training(staff_client, ml_service, ml_url):
    ml_service.post(f"{ml_url}/train", json={"job_id": JOB_ID, "status": "queued"}, status=202)

    response = staff_client.post(URL)

    assert response.status_code == 202
    assert response.json() == {"job_id": JOB_ID, "status": "queued"}


def test_an_empty_json_object_is_accepted_as_no_body(staff_client, ml_service, ml_url):
    ml_service.post(f"{ml_url}/train", json={"job_id": JOB_ID, "status": "queued"}, status=202)

    assert staff_client.post(URL, {}).status_code == 202


def test_an_active_job_is_409_naming_it(staff_client, ml_service, ml_url):
    body = {"detail": "A training job is already queued or running.", "job_id": JOB_ID}
    ml_service.post(f"{ml_url}/train", json=body, status=409)

    response = staff_client.post(URL)

    assert response.status_code == 409
    assert response.json() == body


def test_non_staff_users_are_403_and_nothing_is_sent(api_client, ml_service):
    response = api_client.post(URL)

    assert response.status_code == 403
    assert "detail" in response.json()
    assert len(ml_service.calls) == 0


def test_anonymous_is_401(anonymous_client, ml_service):
    assert anonymous_client.post(URL).status_code == 401
    assert anonymous_client.get(URL).status_code == 401


@pytest.mark.parametrize("body", [{"classifier": "svc"}, [], [1], "go", 1])
def test_a_body_is_rejected_before_calling_the_service(staff_client, ml_service, body):
    response = staff_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert len(ml_service.calls) == 0


@pytest.mark.parametrize("status", [500, 503])
def test_ml_service_failure_is_503(staff_client, ml_service, ml_url, status):
    ml_service.post(f"{ml_url}/train", json={"detail": "broker down"}, status=status)

    response = staff_client.post(URL)

    assert response.status_code == 503
    assert response.json() == {"detail": "The ML service is unavailable; try again shortly."}


def test_ml_service_down_is_503(staff_client, settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    response = staff_client.post(URL)

    assert response.status_code == 503
    assert "ML service is unavailable" in response.json()["detail"]


def test_any_user_can_list_jobs(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/train", json={"results": [JOB]})

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"results": [JOB]}


def test_list_forwards_a_valid_limit(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/train?limit=3", json={"results": []})

    assert api_client.get(URL, {"limit": 3}).status_code == 200
    assert ml_service.calls[0].params == {"limit": "3"}


@pytest.mark.parametrize("limit", ["0", "101", "ten", "", "1.5"])
def test_list_rejects_an_invalid_limit(api_client, ml_service, limit):
    response = api_client.get(URL, {"limit": limit})

    assert response.status_code == 400
    assert "limit" in response.json()["errors"]


def test_get_job(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/train/{JOB_ID}", json=JOB)

    response = api_client.get(f"{URL}{JOB_ID}/")

    assert response.status_code == 200
    assert response.json() == JOB


def test_a_running_jobs_progress_is_relayed(api_client, ml_service, ml_url):
    running = {
        **JOB,
        "status": "running",
        "model_version": None,
        "metrics": None,
        "finished_at": None,
        "stats": None,
        "progress": {
            "phase": "reading_rows",
            "done": 5000,
            "total": 63000,
            "updated_at": "2026-11-27T01:02:05Z",
        },
    }
    ml_service.get(f"{ml_url}/train/{JOB_ID}", json=running)

    response = api_client.get(f"{URL}{JOB_ID}/")

    assert response.status_code == 200
    assert response.json()["progress"] == running["progress"]


def test_unknown_job_is_the_services_404(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/train/{JOB_ID}", json={"detail": "Unknown job."}, status=404)

    response = api_client.get(f"{URL}{JOB_ID}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown job."}


@pytest.mark.parametrize("job_id", ["123", "not-a-uuid", "..", JOB_ID.upper()])
def test_malformed_job_id_is_404_without_calling_the_service(api_client, ml_service, job_id):
    response = api_client.get(f"{URL}{job_id}/")

    assert response.status_code == 404
    assert len(ml_service.calls) == 0
