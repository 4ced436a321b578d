import uuid
from datetime import timedelta

import pytest

from mlservice import jobs


def test_create_inserts_a_queued_job(conn):
    job = jobs.create(conn)
    assert job.status == "queued"
    assert job.created_at is not None
    assert (job.started_at, job.finished_at, job.error, job.model_version) == (None,) * 4
    assert jobs.get(conn, job.job_id) == job


def test_a_second_active_job_is_refused_naming_the_first(conn):
    first = jobs.create(conn)
    with pytest.raises(jobs.ActiveJobExists) as raised:
        jobs.create(conn)
    assert raised.value.job_id == first.job_id
    assert len(jobs.list_recent(conn, limit=10)) == 1


def test_a_new_job_may_start_once_the_active_one_finished(conn):
    first = jobs.create(conn)
    assert jobs.mark_running(conn, first.job_id)
    assert jobs.mark_failed(conn, first.job_id, error="boom")
    second = jobs.create(conn)
    assert second.job_id != first.job_id


def test_the_happy_path_records_timestamps_and_results(conn):
    job = jobs.create(conn)
    assert jobs.mark_running(conn, job.job_id)
    metrics = {"accuracy": 0.9, "f1_macro": 0.8}
    assert jobs.mark_succeeded(conn, job.job_id, model_version="v1", metrics=metrics, n_samples=123)
    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded"
    assert done.metrics == metrics
    assert done.n_samples == 123
    assert done.created_at <= done.started_at <= done.finished_at


def test_transitions_are_guarded(conn):
    job = jobs.create(conn)
    assert not jobs.mark_succeeded(conn, job.job_id, model_version="v", metrics={}, n_samples=1)
    assert jobs.mark_running(conn, job.job_id)
    assert not jobs.mark_running(conn, job.job_id)  # a redelivered task does nothing
    assert jobs.mark_failed(conn, job.job_id, error="it broke")
    assert not jobs.mark_failed(conn, job.job_id, error="again")
    assert jobs.get(conn, job.job_id).error == "it broke"


def test_long_errors_are_truncated(conn):
    job = jobs.create(conn)
    jobs.mark_failed(conn, job.job_id, error="x" * 10_000)
    assert len(jobs.get(conn, job.job_id).error) == jobs.ERROR_MAX_LENGTH


def test_unknown_job_is_none(conn):
    assert jobs.get(conn, uuid.uuid4()) is None


def test_list_recent_is_newest_first_and_limited(conn):
    created = []
    for _ in range(3):
        job = jobs.create(conn)
        jobs.mark_failed(conn, job.job_id, error="stop")
        created.append(job.job_id)
    assert [job.job_id for job in jobs.list_recent(conn, limit=10)] == created[::-1]
    assert [job.job_id for job in jobs.list_recent(conn, limit=2)] == created[:0:-1]


def test_fail_abandoned_frees_the_slot_of_lost_jobs(conn):
    job = jobs.create(conn)
    jobs.mark_running(conn, job.job_id)
    conn.execute(
        "UPDATE training_job SET started_at = now() - interval '2 hours' WHERE id = %s",
        [job.job_id],
    )
    failed = jobs.fail_abandoned(
        conn, queued_for=timedelta(hours=1), running_for=timedelta(hours=1)
    )
    assert failed == 1
    lost = jobs.get(conn, job.job_id)
    assert lost.status == "failed"
    assert "time limit" in lost.error
    jobs.create(conn)


def test_fail_abandoned_leaves_recent_jobs_alone(conn):
    job = jobs.create(conn)
    assert jobs.fail_abandoned(conn, queued_for=timedelta(hours=1), running_for=timedelta(0)) == 0
    assert jobs.get(conn, job.job_id).status == "queued"
