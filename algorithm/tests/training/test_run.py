import errno
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice.ml import text_classifier
from mlservice.ml.evaluation import is_evaluation_row
from mlservice.ml.recipes import RECIPE_NAMES
from mlservice.store import artifact_db, artifacts, signing
from mlservice.training import jobs, lease, progress
from mlservice.training import run as training
from tests.support import TEST_SIGNING_KEY, insert_rows, publish, sample, wait_for

STATS = {"peak_rss_bytes", "read_seconds", "fit_seconds", "publish_seconds", "total_seconds"}


@pytest.fixture
def rows(conn, corpus):
    rows = sample(corpus, 400, seed=21)
    insert_rows(conn, rows)
    return rows


def _intercept_training(monkeypatch, during):
    """Run `during()` once, right after the (real) fit of the next training run."""
    real_train = text_classifier.train
    calls = []

    def train(*args, **kwargs):
        trained = real_train(*args, **kwargs)
        if not calls:
            calls.append(True)
            during()
        return trained

    monkeypatch.setattr(text_classifier, "train", train)


def test_a_job_trains_on_the_data_table_and_publishes_a_model(settings, conn, corpus):
    rows = sample(corpus, 800, seed=21)
    insert_rows(conn, rows)
    job = jobs.create(conn)

    version = training.run_training(str(job.job_id), settings.replace(train_batch_size=300))

    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded", done.error
    assert done.model_version == version == artifacts.current_version(settings.models_dir)
    assert done.n_samples == 800
    ids = [row[0] for row in conn.execute("SELECT id FROM data")]
    assert done.metrics["n_test"] == sum(map(is_evaluation_row, ids))
    assert done.metrics["recipe"] in RECIPE_NAMES
    assert set(done.metrics) >= {"accuracy", "precision_weighted", "recall_weighted", "f1_macro"}
    assert done.started_at <= done.finished_at
    assert done.attempts == 1
    assert set(done.stats) == STATS
    assert done.stats["peak_rss_bytes"] > 0
    assert done.stats["total_seconds"] >= done.stats["fit_seconds"] >= 0

    metadata = artifacts.load(settings.models_dir, version, signing_key=TEST_SIGNING_KEY).metadata
    assert signing.is_signed_by(metadata, TEST_SIGNING_KEY)
    assert metadata["fence"] == done.fence
    assert metadata["job_id"] == str(job.job_id)
    assert metadata["n_samples"] == 800
    assert metadata["metrics"] == done.metrics
    assert metadata["parameters"]["classifier"] == "linear_svc"
    assert metadata["recipes"]["selected"] == done.metrics["recipe"]
    assert (
        sum(r["support"] for r in metadata["evaluation"]["per_label"].values())
        == (done.metrics["n_test"])
    )
    expected_labels = {label for _, label in rows} - set(metadata["excluded_labels"])
    assert set(metadata["labels"]) == expected_labels


def test_too_few_rows_fail_the_job_with_a_clear_error(settings, conn, corpus):
    insert_rows(conn, corpus[:5])
    job = jobs.create(conn)
    assert training.run_training(str(job.job_id), settings) is None
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error == "Training needs at least 20 rows; the data table has 5."
    assert failed.n_samples == 5
    assert set(failed.stats) == STATS
    assert artifacts.current_version(settings.models_dir) is None


def test_a_single_label_fails_the_job_with_a_clear_error(settings, conn, corpus):
    insert_rows(conn, [row for row in corpus if row[1] == "python"][:50])
    job = jobs.create(conn)
    training.run_training(str(job.job_id), settings)
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert "at least 2 distinct labels" in failed.error


def test_an_unexpected_error_fails_the_job_and_propagates(settings, conn, rows, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database driver broke")

    monkeypatch.setattr(artifact_db, "publish", broken)
    job = jobs.create(conn)
    with pytest.raises(RuntimeError):
        training.run_training(str(job.job_id), settings)
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error == "RuntimeError: the database driver broke"


def test_a_full_models_volume_does_not_fail_the_job_the_database_holds_the_model(
    settings, conn, rows, monkeypatch
):
    """Postgres is the system of record: the worker's local copy failing changes nothing there,
    and each API's follower retries its own copy until it fits."""
    current = publish(settings.models_dir, model={"m": 1}, vectorizer={"v": 1})

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(artifacts, "_write_file", disk_full)
    job = jobs.create(conn)
    version = training.run_training(str(job.job_id), settings)

    assert jobs.get(conn, job.job_id).status == "succeeded"
    assert artifact_db.read_pointer(conn).current == version
    assert artifacts.current_version(settings.models_dir) == current
    assert list((settings.models_dir / "tmp").iterdir()) == []


def test_the_soft_time_limit_fails_the_job_cleanly(settings, conn, rows, monkeypatch):
    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(text_classifier, "train", too_slow)
    job = jobs.create(conn)
    assert training.run_training(str(job.job_id), settings) is None
    assert jobs.get(conn, job.job_id).error == "Training exceeded its time limit (3300 s)."


def test_a_job_that_is_not_queued_is_left_alone(settings, conn, rows):
    job = jobs.create(conn)
    jobs.mark_failed(conn, job.job_id, error="cancelled")
    assert training.run_training(str(job.job_id), settings) is None
    assert jobs.get(conn, job.job_id).error == "cancelled"
    assert artifacts.current_version(settings.models_dir) is None


def test_a_run_reports_each_phase_in_order_on_its_job(settings, conn, corpus, monkeypatch):
    insert_rows(conn, sample(corpus, 1000, seed=4))
    job = jobs.create(conn)
    # Every report reaches the row (no throttling), so the whole sequence can be checked.
    monkeypatch.setattr(progress, "MIN_INTERVAL_SECONDS", 0)
    written = []
    real_set_progress = jobs.set_progress

    def record(conn, job_id, *, fence, progress):
        accepted = real_set_progress(conn, job_id, fence=fence, progress=progress)
        written.append((progress, accepted))
        return accepted

    monkeypatch.setattr(jobs, "set_progress", record)
    announced = []

    training.run_training(
        str(job.job_id),
        # No budget cut, so every recipe is fitted whatever the machine's speed.
        settings.replace(train_batch_size=300, train_recipe_budget_seconds=10**6),
        announce_progress=announced.append,
    )

    assert all(accepted for _, accepted in written)
    steps = [(p["phase"], p["done"], p["total"]) for p, _ in written]
    assert steps == [
        ("reading_rows", 0, 1000),
        ("reading_rows", 300, 1000),
        ("reading_rows", 600, 1000),
        ("reading_rows", 900, 1000),
        ("reading_rows", 1000, 1000),
        ("fitting", 0, 4),
        ("evaluating", None, None),
        ("fitting", 1, 4),
        ("evaluating", None, None),
        ("fitting", 2, 4),
        ("evaluating", None, None),
        ("fitting", 3, 4),
        ("publishing", None, None),
    ]
    assert announced == [p for p, _ in written]
    finished = jobs.get(conn, job.job_id)
    assert finished.status == "succeeded"
    # The last progress stays on the finished job: where the run was when it ended.
    assert finished.progress == written[-1][0]


def test_the_running_job_renews_its_lease(settings, conn, rows, monkeypatch):
    job = jobs.create(conn)

    def wait_for_a_renewal():
        started = jobs.get(conn, job.job_id).started_at
        wait_for(lambda: jobs.get(conn, job.job_id).heartbeat_at > started, timeout=10)

    _intercept_training(monkeypatch, wait_for_a_renewal)
    training.run_training(str(job.job_id), settings.replace(train_lease_seconds=3))
    assert jobs.get(conn, job.job_id).status == "succeeded"


def test_a_run_that_lost_its_lease_cannot_publish_over_a_newer_model(
    settings, conn, rows, monkeypatch
):
    """Run A stalls past its lease; B runs and publishes; A wakes up and must not publish."""
    stalled = jobs.create(conn)
    newer_version = []

    def lose_the_lease_to_a_newer_run():
        conn.execute(
            "UPDATE training_job SET heartbeat_at = now() - interval '2 minutes' WHERE id = %s",
            [stalled.job_id],
        )
        assert training.fail_stale_jobs(conn, settings) == 1
        newer = jobs.create(conn)
        newer_version.append(training.run_training(str(newer.job_id), settings))

    _intercept_training(monkeypatch, lose_the_lease_to_a_newer_run)
    assert training.run_training(str(stalled.job_id), settings) is None

    assert artifacts.current_version(settings.models_dir) == newer_version[0]
    assert [m["version"] for m in artifacts.list_versions(settings.models_dir)] == newer_version
    lost = jobs.get(conn, stalled.job_id)
    assert lost.status == "failed"
    assert lost.error.startswith("worker lost (no heartbeat for")  # the reaper's, not A's


def test_a_run_whose_job_was_taken_over_publishes_nothing(settings, conn, rows, monkeypatch):
    """Run A loses its job to a redelivery (B) that has not published yet: A's publish is
    refused by the lease check, and the model that was current stays current."""
    current = publish(settings.models_dir, model={"m": 1}, vectorizer={"v": 1})
    job = jobs.create(conn)
    takeover = []

    def redelivered_elsewhere():
        takeover.append(
            jobs.claim(
                conn,
                job.job_id,
                worker="other-host:1",
                lease=timedelta(seconds=60),
                max_attempts=2,
                owner_is_gone=lambda owner: True,
            )
        )

    _intercept_training(monkeypatch, redelivered_elsewhere)
    assert training.run_training(str(job.job_id), settings) is None
    assert artifacts.current_version(settings.models_dir) == current
    taken = jobs.get(conn, job.job_id)
    assert (taken.status, taken.fence, taken.attempts) == ("running", takeover[0].fence, 2)
    # A's "publishing" came after the takeover: the job shows B's (none yet), not A's.
    assert taken.progress is None


def test_a_redelivered_job_whose_process_died_runs_again(settings, conn, rows):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job = jobs.create(conn)
    conn.execute(
        "UPDATE training_job SET status = 'running', started_at = now(), heartbeat_at = now(),"
        " attempts = 1, fence = nextval('training_job_fence_seq'), worker = %s WHERE id = %s",
        [f"{socket.gethostname()}:{dead.pid}", job.job_id],
    )
    assert training.run_training(str(job.job_id), settings) is not None
    done = jobs.get(conn, job.job_id)
    assert (done.status, done.attempts) == ("succeeded", 2)


def test_the_owner_of_a_job_is_gone_only_when_its_process_is(tmp_path):
    host = socket.gethostname()
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_for(lambda: _state(zombie.pid) == "Z", timeout=10)  # exited, not yet waited for
    try:
        assert not lease.owner_is_gone(lease.owner_id())
        assert lease.owner_is_gone(f"{host}:{exited.pid}")
        assert lease.owner_is_gone(f"{host}:{zombie.pid}")
        assert not lease.owner_is_gone(f"another-host:{exited.pid}")
        assert not lease.owner_is_gone("garbage")
    finally:
        zombie.wait()


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def test_queue_training_hands_the_job_id_to_the_broker(conn, settings):
    sent = []
    job = training.queue_training(conn, settings, enqueue=sent.append)
    assert sent == [str(job.job_id)]
    assert jobs.get(conn, job.job_id).status == "queued"


def test_a_broker_failure_fails_the_job_instead_of_leaving_it_queued(conn, settings):
    def refuse(job_id):
        raise BrokerOperationalError("Error 111 connecting to redis. Connection refused.")

    with pytest.raises(training.BrokerUnavailable):
        training.queue_training(conn, settings, enqueue=refuse)
    (job,) = jobs.list_recent(conn, limit=10)
    assert job.status == "failed"
    assert "broker is unreachable" in job.error
    assert training.queue_training(conn, settings, enqueue=lambda job_id: None).status == "queued"


def test_a_table_with_too_many_labels_fails_before_anything_is_fitted(settings, conn, monkeypatch):
    insert_rows(conn, [(f"package number {i}", f"label-{i}") for i in range(5000)])
    fitted = []
    monkeypatch.setattr(text_classifier, "train", lambda *a, **k: fitted.append(a))
    job = jobs.create(conn)
    assert training.run_training(str(job.job_id), settings) is None
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error == (
        "Training data has 5,000 labels; at most TRAIN_MAX_LABELS=500 are allowed."
    )
    assert fitted == []
    assert artifacts.current_version(settings.models_dir) is None


def _exploding_vocabulary(rows: int, words_per_row: int) -> list[tuple[str, str]]:
    """Every word unique: the vocabulary grows with the table."""
    words = iter(f"w{n:07d}x" for n in range(rows * words_per_row))
    return [
        (" ".join(next(words) for _ in range(words_per_row)), f"label{i % 2}") for i in range(rows)
    ]


def test_the_vocabulary_is_capped_at_train_max_features(settings, conn):
    insert_rows(conn, _exploding_vocabulary(400, 50))  # 20,000 distinct terms
    job = jobs.create(conn)
    version = training.run_training(str(job.job_id), settings.replace(train_max_features=1000))
    assert jobs.get(conn, job.job_id).status == "succeeded"
    loaded = artifacts.load(settings.models_dir, version, signing_key=TEST_SIGNING_KEY)
    # Every recipe caps each of its vectorizers (words; characters n-grams too).
    vectorizer, described = loaded.vectorizer, loaded.metadata["parameters"]["vectorizer"]
    if described["class"] == "FeatureUnion":
        parts = dict(vectorizer.transformer_list)
        assert set(parts) == {"word", "char"}
        assert {len(part.vocabulary_) for part in parts.values()} == {1000}
        assert described["word"]["max_features"] == described["char"]["max_features"] == 1000
    else:
        assert len(vectorizer.vocabulary_) == 1000
        assert described["max_features"] == 1000


def test_a_model_whose_weights_exceed_model_max_bytes_fails_before_the_classifier_is_fitted(
    settings, conn, monkeypatch
):
    # 20 labels x 20,000 terms x 8 bytes = 3.2 MB of weights.
    insert_rows(
        conn,
        [(text, f"label{i % 20}") for i, (text, _) in enumerate(_exploding_vocabulary(400, 50))],
    )
    built = []
    real_build = text_classifier.ClassifierSpec.build_classifier
    monkeypatch.setattr(
        text_classifier.ClassifierSpec,
        "build_classifier",
        lambda spec: built.append(spec) or real_build(spec),
    )
    job = jobs.create(conn)
    limited = settings.replace(model_max_bytes=1_000_000)
    assert training.run_training(str(job.job_id), limited) is None
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error.startswith("The model would be too large: 20 labels x ")
    assert "at most MODEL_MAX_BYTES=1,000,000 are allowed" in failed.error
    assert built == []
    assert artifacts.current_version(settings.models_dir) is None


def test_a_serialized_model_over_model_max_bytes_is_not_published(settings, conn, rows):
    current = publish(settings.models_dir, model={"m": 1}, vectorizer={"v": 1})
    job = jobs.create(conn)
    # The original SVC keeps support vectors: its size is only known once serialized.
    limited = settings.replace(classifier="svc", model_max_bytes=50_000)
    assert training.run_training(str(job.job_id), limited) is None
    failed = jobs.get(conn, job.job_id)
    assert failed.status == "failed"
    assert failed.error.startswith("The trained model is larger than MODEL_MAX_BYTES=50,000")
    assert "Nothing was published" in failed.error
    assert artifacts.current_version(settings.models_dir) == current
    assert list((settings.models_dir / "tmp").iterdir()) == []


def test_train_verified_only_leaves_unverified_rows_out_of_the_model(settings, conn, corpus):
    insert_rows(conn, sample(corpus, 400, seed=21))
    # Feedback nobody has reviewed yet: a label of its own, on rows the model must not see.
    insert_rows(conn, [(f"unreviewed feedback {i}", "unreviewed") for i in range(40)])
    conn.execute("UPDATE data SET verified = false, source = 'feedback' WHERE label = 'unreviewed'")
    job = jobs.create(conn)

    version = training.run_training(str(job.job_id), settings.replace(train_verified_only=True))

    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded", done.error
    assert done.n_samples == 400
    metadata = artifacts.load(settings.models_dir, version, signing_key=TEST_SIGNING_KEY).metadata
    assert "unreviewed" not in metadata["labels"]
    assert "unreviewed" not in metadata["excluded_labels"]
