from mlservice import artifacts


def _publish(models_dir, trained_model, job_id):
    return artifacts.publish(
        models_dir,
        model=trained_model.classifier,
        vectorizer=trained_model.vectorizer,
        metadata={
            "job_id": job_id,
            "n_samples": trained_model.n_samples,
            "labels": trained_model.labels,
            "excluded_labels": trained_model.excluded_labels,
            "metrics": trained_model.metrics,
            "parameters": trained_model.parameters,
        },
        keep=5,
    )


def test_no_models_yet(client):
    assert client.get("/models").get_json() == {"current": None, "results": []}


def test_models_lists_versions_newest_first_and_flags_current(client, models_dir, trained_model):
    older = _publish(models_dir, trained_model, "a")
    newer = _publish(models_dir, trained_model, "b")
    response = client.get("/models")
    assert response.status_code == 200
    body = response.get_json()
    assert body["current"] == newer
    assert [m["version"] for m in body["results"]] == [newer, older]
    assert [m["current"] for m in body["results"]] == [True, False]
    latest = body["results"][0]
    assert latest["n_samples"] == 1500
    assert latest["labels"] == trained_model.labels
    assert latest["metrics"] == trained_model.metrics
    assert latest["parameters"]["classifier"] == "linear_svc"
    assert latest["excluded_labels"] == trained_model.excluded_labels
    assert latest["created_at"].endswith("Z")
