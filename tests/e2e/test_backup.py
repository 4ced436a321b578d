"""make backup / make restore: a restore into an emptied stack keeps every row and the model."""

import pytest

pytestmark = pytest.mark.disruptive


def test_backup_and_restore_into_an_emptied_stack(stack, api, trained_job, loaded_corpus, tmp_path):
    rows = api.get("/api/data/", params={"page_size": 1}).json()["count"]
    current_model = api.get("/api/models/").json()["current"]
    text = loaded_corpus.held_out[2]["text"]
    label_before = api.post("/api/predict/", json={"text": text}).json()["label"]

    stack.run("scripts/backup", str(tmp_path / "backup"))
    stack.down(volumes=True)
    stack.up()
    # Until the restore, the emptied database knows nothing of this session's token.
    stack.run("scripts/restore", str(tmp_path / "backup"))

    api.wait_until_ready()
    assert api.get("/api/data/", params={"page_size": 1}).json()["count"] == rows
    assert api.get("/api/models/").json()["current"] == current_model
    assert api.get(f"/api/train/{trained_job['job_id']}/").json()["status"] == "succeeded"
    prediction = api.post("/api/predict/", json={"text": text}).json()
    assert prediction["model_version"] == current_model
    assert prediction["label"] == label_before
