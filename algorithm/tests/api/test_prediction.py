import json

import pytest

from mlservice.api.prediction import NO_MODEL_DETAIL
from tests.support import authenticated, publish_trained


def test_no_model_yet_is_a_conflict(client):
    response = client.post("/predict", json={"text": "a python web framework"})
    assert response.status_code == 409
    assert response.get_json() == {"detail": NO_MODEL_DETAIL}


def test_predict_one_text(client, model_version, trained_model):
    response = client.post("/predict", json={"text": "Python 3 bindings for the GTK toolkit"})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == [
        "label",
        "probabilities",
        "known_token_share",
        "unknown",
        "model_version",
    ]
    assert body["model_version"] == model_version
    assert set(body["probabilities"]) == set(trained_model.labels)
    assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert 0 < body["known_token_share"] <= 1
    assert body["unknown"] is False


def test_predict_a_batch_in_order(client, model_version, corpus):
    texts = [text for text, _ in corpus[:25]]
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model_version"] == model_version
    assert len(body["predictions"]) == 25
    single = client.post("/predict", json={"text": texts[3]}).get_json()
    assert body["predictions"][3] == {
        key: value for key, value in single.items() if key != "model_version"
    }


def test_real_descriptions_are_mostly_classified_right(client, model_version, corpus):
    # Rows the model never saw (the fixture trained on a different random sample).
    rows = corpus[-200:]
    predictions = client.post("/predict", json={"texts": [t for t, _ in rows]}).get_json()
    correct = sum(
        p["label"] == y for p, (_, y) in zip(predictions["predictions"], rows, strict=True)
    )
    assert correct / len(rows) > 0.45


def test_texts_round_trip_unicode(client, model_version):
    response = client.post("/predict", json={"text": "مكتبة بايثون 🐍 для разработки"})
    assert response.status_code == 200


LONG = "x" * 101


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"text": "a", "texts": ["b"]}, "non_field_errors"),
        ({"text": ""}, "text"),
        ({"text": "   \n\t"}, "text"),
        ({"text": 5}, "text"),
        ({"text": None}, "text"),
        ({"text": True}, "text"),
        ({"text": ["a list"]}, "text"),
        ({"text": "nul \x00 inside"}, "text"),
        ({"text": LONG}, "text"),
        ({"texts": []}, "texts"),
        ({"texts": "not a list"}, "texts"),
        ({"texts": ["ok", ""]}, "texts"),
        ({"texts": ["ok", 3]}, "texts"),
        ({"texts": ["ok"] * 6}, "texts"),
        ({"texts": [LONG]}, "texts"),
        ({"text": "ok", "model": "svc"}, "model"),
        ({"text": "ok", "explain": 0}, "explain"),
        ({"text": "ok", "explain": 21}, "explain"),
        ({"text": "ok", "explain": "5"}, "explain"),
        ({"text": "ok", "explain": 2.5}, "explain"),
        ({"text": "ok", "explain": True}, "explain"),
        ({"text": "ok", "explain": None}, "explain"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(settings, body, field, model_version):
    from dataclasses import replace

    from mlservice import create_app

    strict = replace(settings, text_max_length=100, predict_batch_max=5)
    response = authenticated(create_app(strict).test_client()).post("/predict", json=body)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["detail"]
    assert field in payload["errors"]


def test_bad_list_items_are_reported_by_index(client, model_version):
    response = client.post("/predict", json={"texts": ["fine", "", "fine", 7]})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]["texts"]) == {"1", "3"}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{", "NaN"])
def test_non_object_or_invalid_json_is_a_400(client, body):
    response = client.post("/predict", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["detail"]


def test_a_body_that_is_not_json_is_a_415(client):
    response = client.post("/predict", data="text=hello", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["detail"]


def test_a_missing_body_is_a_400(client):
    response = client.post("/predict")
    assert response.status_code == 400
    assert response.get_json()["detail"]


@pytest.mark.parametrize("part", ["model.pickle", "metadata.json"])
def test_a_tampered_new_version_is_refused_and_the_previous_model_keeps_serving(
    client, model_version, models_dir, trained_model, part
):
    assert client.post("/predict", json={"text": "warm up"}).get_json()["model_version"] == (
        model_version
    )
    tampered = publish_trained(models_dir, trained_model)
    path = models_dir / "versions" / tampered / part
    path.write_bytes(path.read_bytes().replace(b"linear_svc", b"evil_model") + b" ")
    response = client.post("/predict", json={"text": "a python library"})
    assert response.status_code == 200
    assert response.get_json()["model_version"] == model_version
    assert tampered in client.get("/health/ready").get_json()["model_error"]


def test_an_unsigned_first_model_is_never_served(client, models_dir, trained_model):
    version = publish_trained(models_dir, trained_model)
    metadata_file = models_dir / "versions" / version / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    del metadata["signature"]
    metadata_file.write_text(json.dumps(metadata))
    response = client.post("/predict", json={"text": "a python library"})
    assert response.status_code == 409
    assert "not signed" in client.get("/health/ready").get_json()["model_error"]


# --- explanations and unknown texts ------------------------------------------------------------


def test_explain_returns_the_top_terms_whose_weights_add_up_to_the_score(
    client, model_version, trained_model
):
    text = "Python 3 bindings for the GTK toolkit"
    response = client.post("/predict", json={"text": text, "explain": 3})
    assert response.status_code == 200
    body = response.get_json()
    explanation = body["explanation"]
    assert explanation["label"] == body["label"]
    assert len(explanation["terms"]) == 3
    assert all(set(term) == {"term", "weight"} for term in explanation["terms"])
    total = sum(term["weight"] for term in explanation["terms"]) + explanation["others_weight"]
    assert total == pytest.approx(explanation["score"] - explanation["intercept"], abs=1e-9)
    # The label's decision score as scikit-learn computes it.
    estimator = trained_model.classifier.calibrated_classifiers_[0].estimator
    scores = estimator.decision_function(trained_model.vectorizer.transform([text]))[0]
    label = trained_model.labels.index(body["label"])
    assert explanation["score"] == pytest.approx(scores[label], abs=1e-9)
    plain = client.post("/predict", json={"text": text}).get_json()
    assert "explanation" not in plain
    assert plain["probabilities"] == body["probabilities"]


def test_every_text_of_a_batch_is_explained(client, model_version, corpus):
    texts = [text for text, _ in corpus[:5]]
    body = client.post("/predict", json={"texts": texts, "explain": 20}).get_json()
    for prediction in body["predictions"]:
        assert prediction["explanation"]["label"] == prediction["label"]
        assert 1 <= len(prediction["explanation"]["terms"]) <= 20


def test_a_text_the_model_knows_nothing_of_is_flagged(client, model_version):
    body = client.post("/predict", json={"text": "zzzzqqq 🐍🐍 xxyyzz"}).get_json()
    assert body["unknown"] is True
    assert body["known_token_share"] == 0.0
    assert body["label"] is not None  # PREDICT_REFUSE_UNKNOWN is off by default


def test_predict_refuse_unknown_gives_an_unknown_text_no_label(settings, model_version):
    from dataclasses import replace

    from mlservice import create_app

    refusing = replace(settings, predict_refuse_unknown=True)
    client = authenticated(create_app(refusing).test_client())
    body = client.post("/predict", json={"texts": ["zzzzqqq xxyyzz", "a python library"]})
    unknown, known = body.get_json()["predictions"]
    assert unknown["label"] is None
    assert unknown["unknown"] is True
    assert known["label"] is not None
    assert known["unknown"] is False


def test_a_model_that_cannot_explain_answers_409(client, models_dir, corpus):
    from mlservice.ml.text_classifier import train
    from tests.support import sample

    rows = sample(corpus, 200, seed=11)
    svc = train([t for t, _ in rows], [y for _, y in rows], classifier="svc", recipes=("word",))
    publish_trained(models_dir, svc)
    response = client.post("/predict", json={"text": "a text editor", "explain": 3})
    assert response.status_code == 409
    assert "linear_svc" in response.get_json()["detail"]
    assert client.post("/predict", json={"text": "a text editor"}).status_code == 200
