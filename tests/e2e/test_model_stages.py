"""Through nginx: models go live in stages. A good candidate is promoted by the gate; a model
trained on a flood of shuffled labels is held back with the reason and never served; staff
promote it and roll back by hand, each change recorded with who and why; unchanged data is not
trained again; a waiting candidate is shadow scored on live predictions; the OpenAPI schema
describes all of it.

The steps share the stack's data and model, so they run in order in one test, and the flood of
bad rows is removed at the end (the next modules predict with the production model again).
"""

from __future__ import annotations

import random
import time
import uuid

import pytest

from conftest import ADMIN_USERNAME, BULK_BATCH
from harness import Api


def _train(api: Api, **body) -> dict:
    response = api.post("/api/train/", json=body or None)
    assert response.status_code == 202, response.text
    # Generous: the shared test machine may be loaded many times over.
    job = api.wait_for_job(response.json()["job_id"], timeout=1500)
    assert job["status"] == "succeeded", job
    return job


def _stage(api: Api, version: str) -> str:
    response = api.get(f"/api/models/{version}/")
    assert response.status_code == 200, response.text
    return response.json()["stage"]


def _served(api: Api, text: str) -> str:
    response = api.post("/api/predict/", json={"text": text})
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def _shadow_figures(api: Api, version: str, *, timeout: float = 60) -> dict:
    """The candidate's shadow agreement once some is recorded (flushed about once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = api.get(f"/api/models/{version}/").json()["shadow"]
        if entries or time.monotonic() > deadline:
            assert entries, "no shadow agreement recorded"
            (entry,) = entries
            return entry
        time.sleep(1)


@pytest.fixture
def flood_marker(stack) -> str:
    """Rows of the flood end with this word; they are deleted after the test."""
    marker = f"e2eflood{uuid.uuid4().hex[:12]}"
    yield marker
    result = stack.exec(
        "web",
        "python",
        "manage.py",
        "shell",
        "-c",
        f"from data.models import Data; Data.objects.filter(text__endswith='{marker}').delete()",
    )
    assert result.returncode == 0, result.stderr


def test_models_go_live_in_stages(api, stack, trained_job, loaded_corpus, flood_marker):
    probe = loaded_corpus.held_out[0]["text"]

    # 1. A good candidate: the same kind of data, trained again; the gate promotes it.
    good = _train(api, force=True)
    assert good["outcome"] == "promoted", good
    assert good["note"].startswith("Promoted to production")
    assert _stage(api, good["model_version"]) == "production"
    assert api.get("/api/models/").json()["current"] == good["model_version"]
    assert _served(api, probe) == good["model_version"]

    # 2. Nothing changed since: the training is skipped, production stays.
    skipped = _train(api)
    assert skipped["outcome"] == "skipped", skipped
    assert skipped["model_version"] == good["model_version"]
    assert "has not changed" in skipped["note"]

    # 3. A flood of shuffled labels (as many rows again): held back, never served.
    texts = [row["text"] + " " + flood_marker for row in loaded_corpus.train]
    labels = [row["label"] for row in loaded_corpus.train]
    random.Random(16).shuffle(labels)
    rows = [{"text": t, "label": y} for t, y in zip(texts, labels, strict=True)]
    for start in range(0, len(rows), BULK_BATCH):
        response = api.post("/api/data/", json=rows[start : start + BULK_BATCH])
        assert response.status_code == 201, response.text[:500]
    bad = _train(api)
    assert bad["outcome"] == "candidate", bad
    assert "below production's" in bad["note"]
    bad_version = bad["model_version"]
    record = api.get(f"/api/models/{bad_version}/").json()
    assert record["stage"] == "candidate"
    assert record["gate"]["promote"] is False
    assert record["gate"]["production_version"] == good["model_version"]
    assert record["gate"]["candidate_f1_macro"] < record["gate"]["production_f1_macro"] - 0.02
    assert api.get("/api/models/").json()["current"] == good["model_version"]
    assert _served(api, probe) == good["model_version"]

    # 3b. While it waits, a share of live predictions (SHADOW_SHARE, 0.1) is also scored by it.
    texts = [row["text"] for row in loaded_corpus.held_out[:150]]
    for text in texts:
        assert _served(api, text) == good["model_version"]
        # Under the edge's limit (NGINX_API_RATE, 50 r/s with a burst of 100): a fast machine
        # answers faster than that, and nginx would refuse the rest of the loop with 429s.
        time.sleep(1 / 40)
    shadow = _shadow_figures(api, bad_version)
    assert shadow["production_version"] == good["model_version"]
    assert 0 < shadow["scored"] <= len(texts)
    assert shadow["agreement"] == shadow["agreed"] / shadow["scored"]
    assert sum(item["scored"] for item in shadow["per_label"].values()) == shadow["scored"]

    # 4. Staff promote it by hand (a reason is required), then roll back through /ml/.
    assert api.post(f"/api/models/{bad_version}/promote/", json={}).status_code == 400
    response = api.post(
        f"/api/models/{bad_version}/promote/", json={"reason": "e2e: promote by hand"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"current": bad_version}
    assert _served(api, probe) == bad_version
    assert _stage(api, good["model_version"]) == "archived"
    wrong_door = api.post(f"/api/models/{bad_version}/rollback/", json={"reason": "x"})
    assert wrong_door.status_code == 409
    response = api.post(
        f"/ml/models/{good['model_version']}/rollback", json={"reason": "e2e: roll back"}
    )
    assert response.status_code == 200, response.text
    assert _served(api, probe) == good["model_version"]
    assert _stage(api, bad_version) == "archived"

    changes = api.get("/api/models/stage-changes/?limit=4").json()["results"]
    assert [
        (c["version"], c["from_stage"], c["to_stage"], c["actor"], c["reason"]) for c in changes
    ] == [
        (
            good["model_version"],
            "archived",
            "production",
            ADMIN_USERNAME,
            "rollback: e2e: roll back",
        ),
        (
            bad_version,
            "production",
            "archived",
            ADMIN_USERNAME,
            f"replaced by {good['model_version']}: rollback: e2e: roll back",
        ),
        (bad_version, "candidate", "production", ADMIN_USERNAME, "promote: e2e: promote by hand"),
        (
            good["model_version"],
            "production",
            "archived",
            ADMIN_USERNAME,
            f"replaced by {bad_version}: promote: e2e: promote by hand",
        ),
    ]
    assert all(c["created_at"].endswith("Z") for c in changes)
    by_version = api.get(f"/ml/models/stage-changes?version={bad_version}").json()["results"]
    assert [(c["from_stage"], c["to_stage"]) for c in by_version] == [
        ("production", "archived"),
        ("candidate", "production"),
        (None, "candidate"),
    ]
    assert by_version[-1]["actor"] == f"training job {bad['job_id']}"


def test_the_schema_describes_the_stages(anonymous):
    schema = anonymous.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for action in ("promote", "rollback"):
        operation = paths[f"/api/models/{{version}}/{action}/"]["post"]
        assert operation["operationId"] == f"model_{action}"
        assert "requestBody" in operation
        assert "409" in operation["responses"]
    assert "get" in paths["/api/models/stage-changes/"]
    components = schema["components"]["schemas"]
    # Request bodies are their own components (COMPONENT_SPLIT_REQUEST): TrainInputRequest.
    assert "force" in components["TrainInputRequest"]["properties"]
    assert "reason" in components["StageChangeInputRequest"]["properties"]
    assert set(components["TrainingJob"]["properties"]) >= {"outcome", "note"}
    assert {"stage", "gate"} <= set(components["ModelVersion"]["properties"])
    assert {"actor", "reason", "from_stage", "to_stage"} <= set(
        components["StageChange"]["properties"]
    )
