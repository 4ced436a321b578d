"""Staff promote a candidate or roll back, with a reason; everyone signed in reads the records."""

import pytest

from tests.fake_ml_service import json_body_is

pytestmark = pytest.mark.django_db

VERSION = "20261127T010203Z-3fa2c1"


@pytest.mark.parametrize("action", ["promote", "rollback"])
def test_staff_move_production_with_a_reason_and_their_name(
    staff_client, staff_user, ml_service, ml_url, action
):
    ml_service.post(
        f"{ml_url}/models/{VERSION}/{action}",
        json={"current": VERSION},
        match=[json_body_is({"reason": "reviewed"})],
    )

    response = staff_client.post(
        f"/api/models/{VERSION}/{action}/", {"reason": "reviewed"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"current": VERSION}
    assert ml_service.calls[0].headers["X-Actor"] == staff_user.get_username()


@pytest.mark.parametrize("action", ["promote", "rollback"])
@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": 5}, {"reason": "x" * 501}, {"reason": "a", "b": 1}]
)
def test_a_missing_or_bad_reason_is_400_and_nothing_is_sent(staff_client, ml_service, action, body):
    response = staff_client.post(f"/api/models/{VERSION}/{action}/", body, format="json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert len(ml_service.calls) == 0


def test_the_services_409_for_a_version_in_another_stage_is_relayed(
    staff_client, ml_service, ml_url
):
    body = {
        "detail": f"Model version {VERSION} is production; a promote takes a candidate version.",
        "stage": "production",
    }
    ml_service.post(f"{ml_url}/models/{VERSION}/promote", json=body, status=409)

    response = staff_client.post(f"/api/models/{VERSION}/promote/", {"reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json() == body


@pytest.mark.parametrize("action", ["promote", "rollback"])
def test_consumers_may_not_move_production(api_client, ml_service, action):
    response = api_client.post(f"/api/models/{VERSION}/{action}/", {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert len(ml_service.calls) == 0


def test_consumers_read_the_stage_changes(api_client, ml_service, ml_url):
    body = {"results": []}
    ml_service.get(f"{ml_url}/models/stage-changes", json=body)

    response = api_client.get(f"/api/models/stage-changes/?version={VERSION}&limit=5")

    assert response.status_code == 200
    assert response.json() == body
    assert ml_service.calls[0].params == {"version": VERSION, "limit": "5"}


def test_a_bad_stage_changes_query_is_400(api_client, ml_service):
    assert api_client.get("/api/models/stage-changes/?limit=0").status_code == 400
    assert api_client.get("/api/models/stage-changes/?version=../x").status_code == 400
    assert len(ml_service.calls) == 0


def test_train_passes_force_on(staff_client, ml_service, ml_url):
    ml_service.post(
        f"{ml_url}/train",
        json={"job_id": "00000000-0000-0000-0000-000000000001", "status": "queued"},
        status=202,
        match=[json_body_is({"force": True})],
    )

    response = staff_client.post("/api/train/", {"force": True}, format="json")

    assert response.status_code == 202


@pytest.mark.parametrize("body", [{"force": "yes"}, {"force": 1}, {"forced": True}])
def test_train_refuses_a_bad_force(staff_client, ml_service, body):
    response = staff_client.post("/api/train/", body, format="json")

    assert response.status_code == 400
    assert len(ml_service.calls) == 0
