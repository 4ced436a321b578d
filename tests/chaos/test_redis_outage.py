"""Redis stopped: predictions go on, POST /api/train/ is a quick 503 with a detail, and
everything recovers by itself when Redis is back."""

import time

from faults import FAST_503_SECONDS, compose_seconds, timed_request, wait_until

PROBES = 3
OUTAGE_SECONDS = 10  # of background traffic while Redis is down


def test_redis_down(stack, admin, consumer, current_model, background, probe_texts, measured):
    measured["stop_seconds"] = round(compose_seconds(stack, "stop", "redis"), 1)
    down_since = time.monotonic()
    try:
        train_seconds = []
        for _ in range(PROBES):
            seconds, response = timed_request(admin, "POST", "/api/train/")
            train_seconds.append(round(seconds, 2))
            assert not isinstance(response, Exception), response
            assert response.status_code == 503, response.text
            assert response.json().get("detail")
        measured["train_503_seconds"] = train_seconds
        measured["train_503_detail"] = response.json()["detail"]

        predict_seconds = []
        for text in probe_texts[:PROBES]:
            seconds, response = timed_request(
                consumer, "POST", "/api/predict/", json={"text": text}
            )
            predict_seconds.append(round(seconds, 2))
            assert not isinstance(response, Exception), response
            assert response.status_code == 200, response.text
            assert response.json()["model_version"] == current_model
        measured["predict_seconds"] = predict_seconds
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
    finally:
        up_at = time.monotonic()
        compose_seconds(stack, "start", "redis")
    outage = background.calls(since=down_since, until=up_at)
    measured["background_during_outage"] = background.summary(since=down_since, until=up_at)

    assert max(train_seconds) <= FAST_503_SECONDS
    predictions = [c for c in outage if c.op == "predict"]
    assert predictions and {c.status for c in predictions} == {200}

    # Recovers by itself: a training is accepted again and the worker runs it.
    seconds, response = wait_until(
        lambda: admin.post("/api/train/"),
        lambda r: r.status_code in (202, 409),
        timeout=120,
        interval=2,
        what="POST /api/train/ accepted after Redis returned",
    )
    measured["train_accepted_after_start_seconds"] = round(seconds, 1)
    job = admin.wait_for_job(response.json()["job_id"], timeout=900)
    assert response.status_code == 202, response.text
    assert job["status"] == "succeeded", job
    measured["recovered_training_seconds"] = round(time.monotonic() - up_at, 1)

    # The refused attempts left no job queued or running behind them.
    jobs = admin.get("/api/train/", params={"limit": 20}).json()["results"]
    assert not [j for j in jobs if j["status"] in ("queued", "running")], jobs
