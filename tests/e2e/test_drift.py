"""Drift of the served model, through nginx and the stack's Prometheus: the OOV share, the
confidence and the label-mix PSI move when the inputs change; the rules' arithmetic is checked
by promtool on known series (monitoring/prometheus/tests/drift.test.yml)."""

import time
from collections import Counter

import pytest

from harness import REPO_ROOT
from test_observability import Prometheus

# Texts no model trained on English package descriptions knows a term of.
FOREIGN = [
    "😀🎉🙈",
    "🚀🔥💯 👍",
    "Это совершенно другой язык без единого знакомого слова",
    "これは日本語の文章です",
    "ελληνικά γράμματα παντού",
]
# A rule evaluation (10 s) after the scrape (10 s) that saw the last prediction.
RULE_EVALUATION_SECONDS = 12


@pytest.fixture(scope="module")
def prometheus(stack, ops_auth) -> Prometheus:
    return Prometheus(stack.base_url, ops_auth)


def test_promtool_checks_the_drift_rules_on_known_series(stack):
    # The image the stack runs Prometheus from, with the repository's rules and their tests.
    image = stack.run(
        "docker", "inspect", "--format", "{{.Config.Image}}", stack.container_id("prometheus")
    ).stdout.strip()
    rules = REPO_ROOT / "monitoring" / "prometheus"
    result = stack.run(
        "docker", "run", "--rm", "--network", "none", "--entrypoint", "promtool",
        "-v", f"{rules}:/rules:ro", image, "test", "rules", "/rules/tests/drift.test.yml",
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _predict(api, texts: list[str]) -> None:
    for start in range(0, len(texts), 1000):
        response = api.post("/api/predict/", json={"texts": texts[start : start + 1000]})
        assert response.status_code == 200, response.text[:300]


def _value(prometheus: Prometheus, expr: str) -> float:
    result = prometheus.query(expr)
    assert len(result) == 1, f"{expr}: {result}"
    return float(result[0]["value"][1])


def _settle(prometheus: Prometheus, version: str, texts_seen: float) -> float:
    """Wait until Prometheus has scraped every text sent so far and evaluated the rules on it;
    returns the version's raw count of texts observed."""
    expr = f'sum(ml_drift_oov_share_count{{model_version="{version}"}})'
    deadline = time.monotonic() + 60
    while (seen := _value(prometheus, expr) if prometheus.query(expr) else 0.0) < texts_seen:
        assert time.monotonic() < deadline, f"Prometheus saw {seen} of {texts_seen} texts"
        time.sleep(2)
    time.sleep(RULE_EVALUATION_SECONDS)
    return seen


def _drift(prometheus: Prometheus, version: str) -> dict[str, float]:
    selector = f'{{model_version="{version}"}}'
    return {
        "oov": _value(prometheus, f"model_version:ml_drift_oov_share:mean1h{selector}"),
        "confidence": _value(prometheus, f"model_version:ml_drift_confidence:mean1h{selector}"),
        "psi": _value(prometheus, f"model_version:ml_label_psi:1h{selector}"),
        "confidence_count": _value(prometheus, f"sum(ml_drift_confidence_count{selector})"),
    }


def test_drift_gauges_move_when_the_inputs_change(api, prometheus, loaded_corpus, trained_job):
    # No training may publish a version mid-test: let any active one end first.
    for job in api.get("/api/train/").json()["results"]:
        if job["status"] not in ("succeeded", "failed"):
            api.wait_for_job(job["job_id"])
    # The version answering now (a test before may have trained a newer one than the fixture).
    version = api.post("/api/predict/", json={"text": "warm up"}).json()["model_version"]
    seen = _settle(prometheus, version, 1)

    # In distribution: held-out rows, drawn from the same table as the training rows.
    in_distribution = [row["text"] for row in loaded_corpus.held_out] * 3
    _predict(api, in_distribution)
    seen = _settle(prometheus, version, seen + len(in_distribution))
    calm = _drift(prometheus, version)

    # Texts of one label only: the predicted mix leaves the training mix.
    label, _ = Counter(row["label"] for row in loaded_corpus.train).most_common(1)[0]
    one_label = [row["text"] for row in loaded_corpus.train if row["label"] == label]
    one_label = (one_label * (2000 // len(one_label) + 1))[:2000]
    _predict(api, one_label)
    seen = _settle(prometheus, version, seen + len(one_label))
    skewed = _drift(prometheus, version)
    assert skewed["psi"] > calm["psi"] + 0.5, (calm, skewed)
    assert skewed["psi"] > 0.25, skewed  # the PredictedLabelMixDrift threshold

    # Texts the model knows no term of: the OOV share rises, and the confidence histogram
    # counts every one of them.
    foreign = (FOREIGN * 400)[:2000]
    _predict(api, foreign)
    _settle(prometheus, version, seen + len(foreign))
    unknown = _drift(prometheus, version)
    assert unknown["oov"] > skewed["oov"] + 0.2, (skewed, unknown)
    assert unknown["confidence_count"] - skewed["confidence_count"] == len(foreign)
    assert unknown["confidence"] != skewed["confidence"]
