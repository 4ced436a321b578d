"""Through nginx: feedback on a real prediction is stored as an unverified labelled row with
its provenance, summed per version, and counted in web's metrics as Prometheus scrapes them."""

import time

import requests


def scraped(stack, ops_auth, expr: str, want: dict, *, timeout: float = 90) -> dict:
    """The query's value by `correct`, once it equals `want` (or what it is at the timeout)."""
    url = stack.base_url + "/prometheus/api/v1/query"
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(url, params={"query": expr}, auth=ops_auth, timeout=10)
        assert response.status_code == 200, response.text
        result = response.json()["data"]["result"]
        values = {sample["metric"]["correct"]: sample["value"][1] for sample in result}
        if values == want or time.monotonic() > deadline:
            return values
        time.sleep(2)


def test_feedback_is_stored_summed_and_counted(api, stack, ops_auth, trained_job, loaded_corpus):
    version = trained_job["model_version"]
    row = loaded_corpus.held_out[1]
    predicted = api.post("/api/predict/", json={"text": row["text"]}).json()
    assert predicted["model_version"] == version
    wrong = next(label for label in predicted["probabilities"] if label != predicted["label"])
    sent = [
        {"predicted_label": predicted["label"], "true_label": predicted["label"]},
        {"predicted_label": predicted["label"], "true_label": wrong},
    ]

    answers = []
    for labels in sent:
        response = api.post(
            "/api/feedback/", json={"text": row["text"], "model_version": version, **labels}
        )
        assert response.status_code == 201, response.text
        answers.append(response.json())

    assert [answer["correct"] for answer in answers] == [True, False]
    stored = api.get(f"/api/data/{answers[1]['data']['id']}/").json()
    assert (stored["text"], stored["label"]) == (row["text"], wrong)
    assert (stored["source"], stored["verified"]) == ("feedback", False)
    assert stored["created_by"] is not None
    summary = api.get("/api/feedback/summary/").json()["results"]
    mine = next(item for item in summary if item["model_version"] == version)
    assert (mine["count"], mine["correct"], mine["accuracy"]) == (2, 1, 0.5)
    unknown = api.post(
        "/api/feedback/",
        json={"text": "t", "model_version": "20200101T000000.000000Z-abcdef", **sent[0]},
    )
    assert unknown.status_code == 400
    assert "model_version" in unknown.json()["detail"]

    expr = f'sum by (correct) (textclf_feedback_total{{model_version="{version}"}})'
    want = {"true": "1", "false": "1"}
    assert scraped(stack, ops_auth, expr, want) == want
