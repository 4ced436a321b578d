"""Restart everything, then `down` + `up`: every row, job record and model version is still there;
then `down -v` + `up` erases them all. Runs last and without background load, so the snapshot is
exact (the load run afterwards prepares its own data)."""

import time

from chaos_stack import admin_token
from harness import Api


def snapshot(api) -> dict:
    models = api.get("/api/models/").json()
    return {
        "rows": api.get("/api/data/", params={"page_size": 1}).json()["count"],
        "jobs": api.get("/api/train/", params={"limit": 100}).json()["results"],
        "current": models["current"],
        "versions": models["results"],
    }


def assert_survived(api, references, before: dict) -> None:
    api.wait_until_ready()
    assert snapshot(api) == before
    assert references.observe() == before["current"]  # same model, same probabilities


def test_everything_survives_a_restart(stack, admin, current_model, references, measured):
    before = snapshot(admin)
    started = time.monotonic()
    stack.restart()
    measured["restart_seconds"] = round(time.monotonic() - started, 1)
    measured.update(rows=before["rows"], jobs=len(before["jobs"]), versions=len(before["versions"]))
    assert_survived(admin, references, before)


def test_everything_survives_down_and_up(stack, admin, current_model, references, measured):
    before = snapshot(admin)
    started = time.monotonic()
    stack.down()
    stack.up()
    measured["down_up_seconds"] = round(time.monotonic() - started, 1)
    assert_survived(admin, references, before)


def test_only_down_v_erases(stack, admin, current_model, measured):
    before = snapshot(admin)
    assert before["rows"] and before["jobs"] and before["versions"]
    started = time.monotonic()
    stack.down(volumes=True)
    stack.up()
    measured["down_v_up_seconds"] = round(time.monotonic() - started, 1)
    api = Api(stack.base_url, admin_token(stack))  # the old token went with the database
    api.wait_until_ready()
    after = snapshot(api)
    measured.update(
        rows_after=after["rows"],
        jobs_after=len(after["jobs"]),
        versions_after=len(after["versions"]),
    )
    assert after == {"rows": 0, "jobs": [], "current": None, "versions": []}
    assert api.post("/api/predict/", json={"text": "anything"}).status_code == 409
