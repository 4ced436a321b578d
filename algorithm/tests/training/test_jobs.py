import uuid
from datetime import timedelta

import psycopg
import pytest

from mlservice.training import jobs

LEASE = timedelta(seconds=60)


def _claim(conn, job_id, *, worker="host:1", max_attempts=2, gone=()):
    return jobs.claim(
        conn,
        job_id,
        worker=worker,
        lease=LEASE,
        max_attempts=max_attempts,
        owner_is_gone=lambda owner: owner in gone,
    )


def _age_heartbeat(conn, job_id, seconds):
    conn.execute(
        "UPDATE training_job SET heartbeat_at = now() - make_interval(secs => %s) WHERE id = %s",
        [seconds, job_id],
    )


def test_create_inserts_a_queued_job(conn):
    job = jobs.create(conn)
    assert job.status == "queued"
    assert job.created_at is not None
    assert (job.started_at, job.finished_at, job.error, job.model_version) == (None,) * 4
    assert (job.attempts, job.stats, job.fence) == (0, None, None)
    assert jobs.get(conn, job.job_id) == job


def test_a_second_active_job_is_refused_naming_the_first(conn):
    first = jobs.create(conn)
    with pytest.raises(jobs.ActiveJobExists) as raised:
        jobs.create(conn)
    assert raised.value.job_id == first.job_id
    assert len(jobs.list_recent(conn, limit=10)) == 1


def test_a_new_job_may_start_once_the_active_one_finished(conn):
    first = jobs.create(conn)
    claim = _claim(conn, first.job_id)
    assert jobs.mark_failed(conn, first.job_id, fence=claim.fence, error="boom")
    second = jobs.create(conn)
    assert second.job_id != first.job_id


def test_claiming_starts_the_job_with_a_lease_and_a_fence(conn):
    job = jobs.create(conn)
    claim = _claim(conn, job.job_id, worker="host:42")
    assert claim.fence is not None
    assert claim.attempts == 1
    running = jobs.get(conn, job.job_id)
    assert running.status == "running"
    assert (running.fence, running.worker, running.attempts) == (claim.fence, "host:42", 1)
    assert running.heartbeat_at is not None
    assert running.started_at is not None


def test_fences_only_grow(conn):
    fences = []
    for _ in range(3):
        job = jobs.create(conn)
        fences.append(_claim(conn, job.job_id).fence)
        jobs.mark_failed(conn, job.job_id, error="next")
    assert fences == sorted(fences)
    assert len(set(fences)) == 3


def test_a_duplicate_delivery_does_not_take_over_a_live_run(conn):
    job = jobs.create(conn)
    first = _claim(conn, job.job_id, worker="host:1")
    duplicate = _claim(conn, job.job_id, worker="host:2")
    assert duplicate.fence is None
    assert duplicate.reason == "running in host:1"
    assert jobs.get(conn, job.job_id).fence == first.fence


def test_a_redelivery_takes_over_when_the_previous_process_is_gone(conn):
    job = jobs.create(conn)
    first = _claim(conn, job.job_id, worker="host:1")
    second = _claim(conn, job.job_id, worker="host:2", gone={"host:1"})
    assert second.fence > first.fence
    assert second.attempts == 2
    assert jobs.get(conn, job.job_id).worker == "host:2"


def test_a_redelivery_takes_over_when_the_lease_expired(conn):
    job = jobs.create(conn)
    _claim(conn, job.job_id, worker="elsewhere:1")
    _age_heartbeat(conn, job.job_id, 61)
    assert _claim(conn, job.job_id, worker="host:2").attempts == 2


def test_a_job_is_given_up_after_max_attempts(conn):
    job = jobs.create(conn)
    _claim(conn, job.job_id, worker="host:1")
    _claim(conn, job.job_id, worker="host:2", gone={"host:1"})
    third = _claim(conn, job.job_id, worker="host:3", gone={"host:2"})
    assert third.fence is None
    assert third.reason == "gave up"
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error.startswith("gave up after 2 attempts")


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_a_finished_job_is_not_started_again(conn, status):
    job = jobs.create(conn)
    claim = _claim(conn, job.job_id)
    if status == "succeeded":
        jobs.mark_succeeded(
            conn,
            job.job_id,
            fence=claim.fence,
            model_version="v",
            metrics={},
            n_samples=1,
            stats={},
        )
    else:
        jobs.mark_failed(conn, job.job_id, fence=claim.fence, error="x")
    assert _claim(conn, job.job_id, gone={"host:1"}).reason == f"already {status}"


def test_only_the_run_holding_the_fence_renews_or_finishes_the_job(conn):
    job = jobs.create(conn)
    old = _claim(conn, job.job_id, worker="host:1")
    new = _claim(conn, job.job_id, worker="host:2", gone={"host:1"})
    assert not jobs.renew_lease(conn, job.job_id, fence=old.fence)
    assert not jobs.holds_lease(conn, job.job_id, fence=old.fence)
    assert not jobs.mark_succeeded(
        conn, job.job_id, fence=old.fence, model_version="v", metrics={}, n_samples=1, stats={}
    )
    assert not jobs.mark_failed(conn, job.job_id, fence=old.fence, error="late")
    assert jobs.renew_lease(conn, job.job_id, fence=new.fence)
    assert jobs.holds_lease(conn, job.job_id, fence=new.fence)


def test_the_happy_path_records_timestamps_results_and_stats(conn):
    job = jobs.create(conn)
    claim = _claim(conn, job.job_id)
    metrics = {"accuracy": 0.9, "f1_macro": 0.8}
    stats = {"peak_rss_bytes": 1, "total_seconds": 2.5}
    assert jobs.mark_succeeded(
        conn,
        job.job_id,
        fence=claim.fence,
        model_version="v1",
        metrics=metrics,
        n_samples=123,
        stats=stats,
    )
    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded"
    assert (done.metrics, done.stats, done.n_samples) == (metrics, stats, 123)
    assert done.created_at <= done.started_at <= done.finished_at


def test_long_errors_are_truncated(conn):
    job = jobs.create(conn)
    jobs.mark_failed(conn, job.job_id, error="x" * 10_000)
    assert len(jobs.get(conn, job.job_id).error) == jobs.ERROR_MAX_LENGTH


def test_unknown_job_is_none(conn):
    assert jobs.get(conn, uuid.uuid4()) is None
    assert _claim(conn, uuid.uuid4()).reason == "unknown job"


def test_list_recent_is_newest_first_and_limited(conn):
    created = []
    for _ in range(3):
        job = jobs.create(conn)
        jobs.mark_failed(conn, job.job_id, error="stop")
        created.append(job.job_id)
    assert [job.job_id for job in jobs.list_recent(conn, limit=10)] == created[::-1]
    assert [job.job_id for job in jobs.list_recent(conn, limit=2)] == created[:0:-1]


def test_fail_stale_fails_a_running_job_without_heartbeat(conn):
    job = jobs.create(conn)
    _claim(conn, job.job_id)
    _age_heartbeat(conn, job.job_id, 90)
    assert jobs.fail_stale(conn, lease=LEASE, queued_for=timedelta(hours=1)) == 1
    lost = jobs.get(conn, job.job_id)
    assert lost.status == "failed"
    assert lost.error == "worker lost (no heartbeat for 90 s)"
    jobs.create(conn)  # the slot is free


def test_fail_stale_fails_a_job_queued_for_too_long(conn):
    job = jobs.create(conn)
    conn.execute(
        "UPDATE training_job SET created_at = now() - interval '2 hours' WHERE id = %s",
        [job.job_id],
    )
    assert jobs.fail_stale(conn, lease=LEASE, queued_for=timedelta(hours=1)) == 1
    assert jobs.get(conn, job.job_id).error.startswith("Abandoned")


def test_fail_stale_leaves_live_jobs_alone(conn):
    queued = jobs.create(conn)
    assert jobs.fail_stale(conn, lease=LEASE, queued_for=timedelta(hours=1)) == 0
    _claim(conn, queued.job_id)
    _age_heartbeat(conn, queued.job_id, 30)
    assert jobs.fail_stale(conn, lease=LEASE, queued_for=timedelta(hours=1)) == 0
    assert jobs.get(conn, queued.job_id).status == "running"


PROGRESS = {"phase": "fitting", "done": 0, "total": 2, "updated_at": "2026-01-01T00:00:00Z"}


def test_only_the_run_holding_the_fence_records_progress(conn):
    job = jobs.create(conn)
    old = _claim(conn, job.job_id, worker="host:1")
    assert jobs.set_progress(conn, job.job_id, fence=old.fence, progress=PROGRESS)
    assert jobs.get(conn, job.job_id).progress == PROGRESS

    new = _claim(conn, job.job_id, worker="host:2", gone={"host:1"})
    # A new run starts with no progress; the old run's later writes are ignored.
    assert jobs.get(conn, job.job_id).progress is None
    assert not jobs.set_progress(conn, job.job_id, fence=old.fence, progress=PROGRESS)
    assert jobs.get(conn, job.job_id).progress is None
    assert jobs.set_progress(
        conn, job.job_id, fence=new.fence, progress={**PROGRESS, "phase": "publishing"}
    )
    assert jobs.get(conn, job.job_id).progress["phase"] == "publishing"


def test_a_finished_job_keeps_its_last_progress_and_takes_no_more(conn):
    job = jobs.create(conn)
    claim = _claim(conn, job.job_id)
    jobs.set_progress(conn, job.job_id, fence=claim.fence, progress=PROGRESS)
    jobs.mark_failed(conn, job.job_id, fence=claim.fence, error="boom")
    assert not jobs.set_progress(
        conn, job.job_id, fence=claim.fence, progress={**PROGRESS, "phase": "publishing"}
    )
    assert jobs.get(conn, job.job_id).progress == PROGRESS


def test_a_queued_job_has_no_progress(conn):
    assert jobs.create(conn).progress is None


def test_the_database_refuses_a_progress_with_an_unknown_phase(conn):
    job = jobs.create(conn)
    claim = _claim(conn, job.job_id)
    with pytest.raises(psycopg.errors.CheckViolation):
        jobs.set_progress(conn, job.job_id, fence=claim.fence, progress={"phase": "dreaming"})
