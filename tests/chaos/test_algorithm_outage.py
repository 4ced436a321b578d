"""The ML API stopped: the gateway's predict and train answer 503 within 5 s, while nginx, web and
the data API stay healthy; predictions come back by themselves when the ML API returns."""

import time

from faults import FAST_503_SECONDS, compose_seconds, timed_request, wait_until

# Spans at least two healthchecks of web and nginx (every 10 s).
OUTAGE_SECONDS = 25


def test_algorithm_down(stack, admin, consumer, current_model, background, probe_texts, measured):
    measured["stop_seconds"] = round(compose_seconds(stack, "stop", "algorithm"), 1)
    down_since = time.monotonic()
    health = []
    try:
        probes = {
            "predict": (consumer, "POST", "/api/predict/", {"text": probe_texts[0]}),
            "train": (admin, "POST", "/api/train/", None),
        }
        gateway_seconds = {}
        for name, (api, method, path, body) in probes.items():
            seconds, response = timed_request(api, method, path, json=body)
            gateway_seconds[name] = round(seconds, 2)
            assert not isinstance(response, Exception), (name, response)
            assert response.status_code == 503, (name, response.text)
            assert response.json().get("detail"), response.text
            assert seconds <= FAST_503_SECONDS, (name, seconds)
        measured["gateway_503_seconds"] = gateway_seconds

        while time.monotonic() - down_since < OUTAGE_SECONDS:
            health.append(
                (
                    consumer.get("/healthz").status_code,
                    consumer.get("/api/health/").status_code,
                    consumer.get("/api/data/", params={"page_size": 1}).status_code,
                    stack.health("web"),
                    stack.health("nginx"),
                )
            )
            time.sleep(1)
    finally:
        up_at = time.monotonic()
        compose_seconds(stack, "start", "algorithm")
    measured["health_samples"] = len(health)
    measured["background_during_outage"] = background.summary(since=down_since, until=up_at)

    assert set(health) == {(200, 200, 200, "healthy", "healthy")}, set(health)
    outage = background.calls(since=down_since, until=up_at)
    predictions = [c for c in outage if c.op == "predict"]
    assert predictions
    assert all(c.status == 503 and c.seconds <= FAST_503_SECONDS for c in predictions)
    assert {c.status for c in outage if c.op != "predict"} <= {200, 201, 204}

    seconds, _ = wait_until(
        lambda: consumer.post("/api/predict/", json={"text": probe_texts[0]}),
        lambda r: r.status_code == 200,
        timeout=120,
        what="predictions back after the ML API returned",
    )
    measured["predict_back_after_start_seconds"] = round(seconds, 1)
