import numpy as np
import pytest

from bench.in_process import (
    InProcessModel,
    load_model,
    shadow_cpu_per_prediction,
    train_model,
)
from bench.tests.conftest import TEST_SIGNING_KEY, sample
from mlservice.store import artifacts


def test_a_published_model_predicts_like_the_api(client, model_version, models_dir, corpus):
    texts = [text for text, _ in sample(corpus, 20, seed=8)]
    model = load_model(models_dir, signing_key=TEST_SIGNING_KEY)
    assert model.version == model_version
    api = client.post("/predict", json={"texts": texts}).get_json()["predictions"]
    assert model.predict(texts) == api
    assert model.predict(texts[:1]) == [
        {
            k: v
            for k, v in client.post("/predict", json={"text": texts[0]}).get_json().items()
            if k != "model_version"
        }
    ]


def test_the_fast_path_and_sklearns_call_agree(trained_model, corpus):
    model = InProcessModel(trained_model.vectorizer, trained_model.classifier)
    texts = [text for text, _ in sample(corpus, 50, seed=8)]
    np.testing.assert_allclose(
        model.predict_proba(texts), model.sklearn_predict_proba(texts), rtol=0, atol=1e-9
    )


def test_a_model_can_be_trained_in_memory(corpus):
    rows = sample(corpus, 300, seed=8)
    model = train_model([t for t, _ in rows], [y for _, y in rows])
    assert model.version is None
    assert set(model.predict(["a python library"])[0]["probabilities"]) == set(model.labels)


def test_loading_without_a_model_or_with_the_wrong_key_fails(models_dir, model_version):
    with pytest.raises(artifacts.VersionVanished):
        load_model(models_dir / "empty", signing_key=TEST_SIGNING_KEY)
    with pytest.raises(artifacts.ArtifactError, match="signature"):
        load_model(models_dir, signing_key="wrong", version=model_version)


def test_the_shadow_cost_runs_the_apis_scorer_with_a_waiting_candidate(trained_model, corpus):
    """A smoke run of the bench's shadow row (its figures are the bench's, not asserted here):
    the service's scorer, a signed candidate installed and linked, every text sampled."""
    model = InProcessModel(trained_model.vectorizer, trained_model.classifier)
    texts = [text for text, _ in sample(corpus, 50, seed=9)]
    plain, shadowed = shadow_cpu_per_prediction(model, texts, share=1.0)
    assert plain > 0 and shadowed > 0
