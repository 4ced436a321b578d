"""Only `down -v` erases: rows, job records and the model survive restarts and re-creation."""

import pytest

pytestmark = pytest.mark.disruptive


def snapshot(api, job_id: str) -> dict:
    return {
        "rows": api.get("/api/data/", params={"page_size": 1}).json()["count"],
        "job": api.get(f"/api/train/{job_id}/").json(),
        "current_model": api.get("/api/models/").json()["current"],
    }


def assert_survived(api, before: dict, job_id: str, text: str) -> None:
    api.wait_until_ready()
    after = snapshot(api, job_id)
    assert after == before
    prediction = api.post("/api/predict/", json={"text": text})
    assert prediction.status_code == 200, prediction.text
    assert prediction.json()["model_version"] == before["current_model"]


def test_everything_survives_a_restart(stack, api, trained_job, loaded_corpus):
    before = snapshot(api, trained_job["job_id"])
    stack.restart()
    assert_survived(api, before, trained_job["job_id"], loaded_corpus.held_out[0]["text"])


def test_everything_survives_down_and_up(stack, api, trained_job, loaded_corpus):
    before = snapshot(api, trained_job["job_id"])
    stack.down()
    stack.up()
    assert_survived(api, before, trained_job["job_id"], loaded_corpus.held_out[1]["text"])
