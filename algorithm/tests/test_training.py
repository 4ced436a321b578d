from dataclasses import replace

import pytest
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice import artifacts, jobs, training
from tests.helpers import insert_rows, sample


def _queued_job(conn):
    return jobs.create(conn)


def test_a_job_trains_on_the_data_table_and_publishes_a_model(settings, conn, corpus):
    rows = sample(corpus, 800, seed=21)
    insert_rows(conn, rows)
    job = _queued_job(conn)

    version = training.run_training(str(job.job_id), replace(settings, train_batch_size=300))

    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded", done.error
    assert done.model_version == version == artifacts.current_version(settings.models_dir)
    assert done.n_samples == 800
    assert done.metrics["n_test"] == 200
    assert set(done.metrics) >= {"accuracy", "precision_weighted", "recall_weighted", "f1_macro"}
    assert done.started_at <= done.finished_at

    metadata = artifacts.load(settings.models_dir, version).metadata
    assert metadata["job_id"] == str(job.job_id)
    assert metadata["n_samples"] == 800
    assert metadata["metrics"] == done.metrics
    assert metadata["parameters"]["classifier"] == "linear_svc"
    expected_labels = {label for _, label in rows} - set(metadata["excluded_labels"])
    assert set(metadata["labels"]) == expected_labels


def test_too_few_rows_fail_the_job_with_a_clear_error(settings, conn, corpus):
    insert_rows(conn, corpus[:5])
    job = _queued_job(conn)
    assert training.run_training(str(job.job_id), settings) is None
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error == "Training needs at least 20 rows; the data table has 5."
    assert failed.n_samples == 5
    assert artifacts.current_version(settings.models_dir) is None


def test_a_single_label_fails_the_job_with_a_clear_error(settings, conn, corpus):
    insert_rows(conn, [row for row in corpus if row[1] == "python"][:50])
    job = _queued_job(conn)
    training.run_training(str(job.job_id), settings)
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert "at least 2 distinct labels" in failed.error


def test_an_unexpected_error_fails_the_job_and_propagates(settings, conn, corpus, tmp_path):
    insert_rows(conn, sample(corpus, 300, seed=1))
    not_a_directory = tmp_path / "models-file"
    not_a_directory.write_text("")
    job = _queued_job(conn)
    with pytest.raises((FileExistsError, NotADirectoryError)):
        training.run_training(str(job.job_id), replace(settings, models_dir=not_a_directory))
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error.startswith(("FileExistsError", "NotADirectoryError"))


def test_a_job_that_is_not_queued_is_left_alone(settings, conn, corpus):
    insert_rows(conn, sample(corpus, 100, seed=1))
    job = _queued_job(conn)
    jobs.mark_failed(conn, job.job_id, error="cancelled")
    assert training.run_training(str(job.job_id), settings) is None
    assert jobs.get(conn, job.job_id).error == "cancelled"
    assert artifacts.current_version(settings.models_dir) is None


def test_queue_training_hands_the_job_id_to_the_broker(conn):
    sent = []
    job = training.queue_training(conn, enqueue=sent.append)
    assert sent == [str(job.job_id)]
    assert jobs.get(conn, job.job_id).status == "queued"


def test_a_broker_failure_fails_the_job_instead_of_leaving_it_queued(conn):
    def refuse(job_id):
        raise BrokerOperationalError("Error 111 connecting to redis. Connection refused.")

    with pytest.raises(training.BrokerUnavailable):
        training.queue_training(conn, enqueue=refuse)
    (job,) = jobs.list_recent(conn, limit=10)
    assert job.status == "failed"
    assert "broker is unreachable" in job.error
    assert training.queue_training(conn, enqueue=lambda job_id: None).status == "queued"


def test_queue_training_reaps_an_abandoned_job_first(conn):
    lost = jobs.create(conn)
    jobs.mark_running(conn, lost.job_id)
    conn.execute(
        "UPDATE training_job SET started_at = now() - interval '3 hours' WHERE id = %s",
        [lost.job_id],
    )
    job = training.queue_training(conn, enqueue=lambda job_id: None)
    assert job.status == "queued"
    assert jobs.get(conn, lost.job_id).status == "failed"
