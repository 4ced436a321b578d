"""Through nginx: the recipe a training chose, per-label quality, explanations, unknown texts."""

import pytest


def test_a_models_detail_has_its_recipes_and_per_label_quality(api, trained_job):
    version = trained_job["model_version"]
    response = api.get(f"/api/models/{version}/")
    assert response.status_code == 200, response.text
    model = response.json()
    assert model["version"] == version
    recipes = model["recipes"]
    assert recipes["selected"] == model["metrics"]["recipe"] == trained_job["metrics"]["recipe"]
    evaluated = [c for c in recipes["candidates"] if c["status"] == "evaluated"]
    assert recipes["score"] == max(c["f1_macro"] for c in evaluated)
    assert {c["name"] for c in recipes["candidates"]} == {"word", "word_punct", "word_char"}
    per_label = model["evaluation"]["per_label"]
    assert sum(row["support"] for row in per_label.values()) == trained_job["metrics"]["n_test"]
    confusion = model["evaluation"]["confusion_matrix"]
    assert confusion["labels"] == sorted(per_label)
    assert [sum(row) for row in confusion["matrix"]] == [
        per_label[label]["support"] for label in confusion["labels"]
    ]
    assert api.get("/api/models/20200101T000000.000000Z-abcdef/").status_code == 404


def test_explanation_weights_add_up_to_the_labels_score_minus_the_intercept(
    api, trained_job, loaded_corpus
):
    texts = [row["text"] for row in loaded_corpus.held_out[:5]]
    response = api.post("/api/predict/", json={"texts": texts, "explain": 5})
    assert response.status_code == 200, response.text
    for prediction in response.json()["predictions"]:
        explanation = prediction["explanation"]
        assert explanation["label"] == prediction["label"]
        assert 1 <= len(explanation["terms"]) <= 5
        total = sum(term["weight"] for term in explanation["terms"])
        total += explanation["others_weight"]
        assert abs(total - (explanation["score"] - explanation["intercept"])) < 1e-9
        magnitudes = [abs(term["weight"]) for term in explanation["terms"]]
        assert magnitudes == sorted(magnitudes, reverse=True)


@pytest.mark.parametrize("explain", [0, 21, "5", True])
def test_an_explain_out_of_bounds_is_a_400_with_a_detail(api, trained_job, explain):
    response = api.post("/api/predict/", json={"text": "a text editor", "explain": explain})
    assert response.status_code == 400
    assert "explain" in response.json()["errors"]
    assert response.json()["detail"]


def test_a_text_the_model_knows_nothing_of_is_flagged(api, trained_job, loaded_corpus):
    known = api.post("/api/predict/", json={"text": loaded_corpus.held_out[0]["text"]}).json()
    assert known["unknown"] is False
    assert 0 < known["known_token_share"] <= 1
    foreign = api.post("/api/predict/", json={"text": "🐍🐍🐍 🦀"}).json()
    assert foreign["unknown"] is True
    assert foreign["known_token_share"] == 0.0
