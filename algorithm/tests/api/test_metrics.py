"""GET /metrics: the API's families, multiprocess-merged (the suite runs in multiprocess mode)."""

import random
import secrets

import pytest
from prometheus_client.parser import text_string_to_metric_families
from textclf_ops.http_metrics import route_template

from tests.support import publish


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_no_token(app):
    assert app.test_client().get("/metrics").status_code == 200


def test_requests_are_counted_by_route_template_never_by_raw_path(client):
    before = scrape(client)
    for job_id in ("11111111-1111-4111-8111-111111111111", "not-a-uuid"):
        client.get(f"/train/{job_id}")
    client.get("/no/such/path")
    client.get("/train", headers={"X-Service-Token": "wrong"})
    after = scrape(client)

    route = {"service": "algorithm", "method": "GET", "route": "/train/{job_id}", "status": "404"}
    assert (
        value(after, "http_requests_total", **route) - value(before, "http_requests_total", **route)
        == 2
    )
    unmatched = {"service": "algorithm", "method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, "http_requests_total", **unmatched) > value(
        before, "http_requests_total", **unmatched
    )
    unauthorized = {"service": "algorithm", "method": "GET", "route": "/train", "status": "401"}
    assert value(after, "http_requests_total", **unauthorized) >= 1
    duration = {"service": "algorithm", "method": "GET", "route": "/train/{job_id}"}
    assert value(after, "http_request_duration_seconds_count", **duration) >= 2
    assert not any("not-a-uuid" in str(labels) for _, labels in after)


def test_predictions_are_counted_by_label_and_model_version(client, model_version):
    before = scrape(client)
    single = client.post("/predict", json={"text": "a python library"}).get_json()
    batch = client.post("/predict", json={"texts": ["a python library"] * 3}).get_json()
    after = scrape(client)

    labels = {"label": single["label"], "model_version": model_version}
    assert (
        value(after, "ml_predictions_total", **labels)
        - value(before, "ml_predictions_total", **labels)
        == 4
    )
    assert {p["label"] for p in batch["predictions"]} == {single["label"]}
    for kind in ("single", "batch"):
        assert (
            value(after, "ml_predict_duration_seconds_count", kind=kind)
            - value(before, "ml_predict_duration_seconds_count", kind=kind)
            == 1
        )


def test_the_served_model_is_described(client, model_version, trained_model):
    client.post("/predict", json={"text": "load it"})
    samples = scrape(client)
    assert value(samples, "ml_model_info", version=model_version) == 1
    assert value(samples, "ml_model_accuracy") == pytest.approx(trained_model.metrics["accuracy"])
    assert value(samples, "ml_model_f1_macro") == pytest.approx(trained_model.metrics["f1_macro"])
    assert value(samples, "ml_model_created_timestamp_seconds") > 0
    assert value(samples, "ml_model_load_duration_seconds_count") >= 1


def test_a_refused_model_is_counted_by_reason(client, model_version, models_dir):
    client.post("/predict", json={"text": "load the good one"})
    broken = publish(models_dir, model={"x": 1}, vectorizer={"y": 2})
    (models_dir / "versions" / broken / "model.pickle").write_bytes(b"tampered")
    before = scrape(client)
    assert client.post("/predict", json={"text": "still served"}).status_code == 200
    after = scrape(client)
    reason = {"reason": "checksum_mismatch"}
    assert (
        value(after, "ml_model_load_failures_total", **reason)
        - value(before, "ml_model_load_failures_total", **reason)
        == 1
    )


def test_settings_are_exported_for_the_alert_rules(client, settings):
    samples = scrape(client)
    assert value(samples, "ml_model_max_age_seconds") == settings.model_max_age_seconds
    assert value(samples, "ml_predict_p99_threshold_seconds") == 0.25


def test_worker_families_are_left_to_the_worker(client):
    names = {name for name, _ in scrape(client)}
    assert not any(name.startswith(("ml_training_", "celery_")) for name in names)


# Fixed words (artifacts.ArtifactError); anything else would be a new series per message.
LOAD_FAILURE_REASONS = {
    "incomplete",
    "unreadable",
    "too_large",
    "unsigned",
    "bad_signature",
    "wrong_version",
    "incompatible",
    "checksum_mismatch",
    "unpickle_failed",
    "vanished",
}


def test_label_values_stay_bounded_whatever_paths_and_methods_are_sent(app, client, model_version):
    """An attacker (or a scanner) sends random paths, ids and methods: the series they add are
    bounded by the app's routes x the known methods x the status codes, never one per request."""
    rng = random.Random(12)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    methods += ["PROPFIND", "TRACE", "BREW", "X" * 40, "get"]
    templates = [
        "/{}",
        "/train/{}",
        "/models/{}/activate",
        "/predict/{}",
        "/health/{}",
        "/metrics/{}",
        "/{}/{}/{}",
        "/static/{}.php",
    ]
    before = scrape(client)
    sent_tokens = []
    for _ in range(400):
        tokens = [secrets.token_hex(6) for _ in range(3)]
        sent_tokens += tokens
        path = rng.choice(templates).format(*tokens)
        client.open(path, method=rng.choice(methods), json={"text": tokens[0]})
    client.post("/predict", json={"text": "a python library"})
    after = scrape(client)
    new = [key for key in after if key not in before]  # earlier tests share the directory

    routes = {route_template(rule.rule) for rule in app.url_map.iter_rules()} | {"unmatched"}
    known_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
    http = [dict(labels) for name, labels in new if name.startswith("http_request")]
    assert {labels["route"] for labels in http} <= routes
    assert {labels["method"] for labels in http} <= known_methods
    statuses = {labels["status"] for labels in http if "status" in labels}
    assert all(len(status) == 3 and status.isdigit() for status in statuses)
    requests_series = [labels for name, labels in new if name == "http_requests_total"]
    assert len(requests_series) <= len(routes) * len(known_methods) * len(statuses)
    assert len(requests_series) < 100  # 400 random requests add a few dozen at most
    every_label_value = " ".join(str(labels) for _, labels in after)
    assert not [token for token in sent_tokens if token in every_label_value]

    # Model series: labels of published models (at most TRAIN_MAX_LABELS each), their versions.
    model_labels = set(app.extensions["model_store"].current().predictor.labels)
    predictions = [dict(labels) for name, labels in new if name == "ml_predictions_total"]
    assert {labels["label"] for labels in predictions} <= model_labels
    assert {labels["model_version"] for labels in predictions} <= {model_version}
    failures = [dict(labels) for name, labels in after if name == "ml_model_load_failures_total"]
    assert {labels["reason"] for labels in failures} <= LOAD_FAILURE_REASONS


def test_metrics_name_the_release_from_the_image(client, monkeypatch):
    monkeypatch.setenv("TEXTCLF_VERSION", "v1.2.3")
    monkeypatch.setenv("TEXTCLF_REVISION", "abc1234")

    samples = scrape(client)

    assert value(samples, "build_info", version="v1.2.3", revision="abc1234") == 1


def test_an_unknown_method_is_counted_as_other_in_capitals_as_in_web(client):
    # Flask matches no rule for a method it does not serve: the route reads as unmatched.
    labels = {"service": "algorithm", "method": "OTHER", "route": "unmatched", "status": "405"}
    before = value(scrape(client), "http_requests_total", **labels)

    client.open("/health/live", method="BREW")

    assert value(scrape(client), "http_requests_total", **labels) == before + 1


def test_each_text_classified_moves_the_drift_histograms_of_its_version(client, model_version):
    client.post("/predict", json={"text": "load it"})
    before = scrape(client)
    known = client.post("/predict", json={"text": "Python 3 bindings for the GTK toolkit"})
    batch = client.post("/predict", json={"texts": ["😀🎉🙈", "😀", "a python library"]})
    after = scrape(client)
    assert known.status_code == batch.status_code == 200

    def grew(name, **labels):
        return value(after, name, model_version=model_version, **labels) - value(
            before, name, model_version=model_version, **labels
        )

    assert grew("ml_drift_oov_share_count") == 4
    assert grew("ml_drift_confidence_count") == 4
    # The two emoji texts have no term the model knows: OOV share 1, above the 0.99 bucket.
    assert (
        grew("ml_drift_oov_share_bucket", le="+Inf") - grew("ml_drift_oov_share_bucket", le="0.99")
        == 2
    )
    shares = [1 - known.get_json()["known_token_share"]] + [
        1 - p["known_token_share"] for p in batch.get_json()["predictions"]
    ]
    assert grew("ml_drift_oov_share_sum") == pytest.approx(sum(shares))
    top = [max(known.get_json()["probabilities"].values())] + [
        max(p["probabilities"].values()) for p in batch.get_json()["predictions"]
    ]
    assert grew("ml_drift_confidence_sum") == pytest.approx(sum(top))


def test_the_served_versions_training_label_mix_and_zero_series_are_exported(
    client, model_version, trained_model
):
    client.post("/predict", json={"text": "load it"})
    samples = scrape(client)
    shares = {
        dict(labels)["label"]: sample
        for (name, labels), sample in samples.items()
        if name == "ml_model_training_label_share"
        and dict(labels)["model_version"] == model_version
    }
    assert set(shares) == set(trained_model.labels)
    assert sum(shares.values()) == pytest.approx(1.0)
    # Every label has a predictions series from the load on, so a window counts its first
    # predictions and a label never predicted shows as 0 (the PSI rule needs both).
    predicted = {
        dict(labels)["label"]
        for (name, labels), _ in samples.items()
        if name == "ml_predictions_total" and dict(labels)["model_version"] == model_version
    }
    assert predicted == set(trained_model.labels)
