"""Stages through a training run: the gate promotes or holds back, unchanged data is skipped,
staff move production by hand; every change is recorded. Real Postgres, real fits."""

import random
from collections import Counter

import pytest

from mlservice.store import artifact_db, artifacts
from mlservice.training import jobs
from mlservice.training import run as training
from tests.support import TEST_SIGNING_KEY, insert_rows


@pytest.fixture
def gate_settings(settings):
    # The cheapest recipe only: the gate, not the recipe search, is under test.
    return settings.replace(train_recipe_budget_seconds=0, train_promote_min_f1=0.3)


@pytest.fixture
def common_rows(corpus):
    """600 rows of the 6 most common labels: a model that clearly learns something."""
    top = {label for label, _ in Counter(label for _, label in corpus).most_common(6)}
    rows = [row for row in corpus if row[1] in top]
    return random.Random(5).sample(rows, 600)


def _train(conn, settings, **options):
    job = jobs.create(conn)
    training.run_training(str(job.job_id), settings, **options)
    done = jobs.get(conn, job.job_id)
    assert done.status == "succeeded", done.error
    return done


def test_the_first_model_passing_the_minimum_is_promoted_and_recorded(
    gate_settings, conn, common_rows
):
    insert_rows(conn, common_rows)
    job = _train(conn, gate_settings)

    assert job.outcome == "promoted"
    assert "meets the minimum" in job.note
    assert artifact_db.stage_of(conn, job.model_version) == "production"
    assert artifacts.current_version(gate_settings.models_dir) == job.model_version
    changes = artifact_db.stage_changes(conn, version=job.model_version)
    assert [(c.from_stage, c.to_stage) for c in changes] == [
        ("candidate", "production"),
        (None, "candidate"),
    ]
    assert {c.actor for c in changes} == {f"training job {job.job_id}"}
    metadata = artifacts.verify(
        gate_settings.models_dir, job.model_version, signing_key=TEST_SIGNING_KEY
    )
    assert metadata["gate"]["promote"] is True
    assert metadata["gate"]["production_version"] is None


def test_a_first_model_below_the_minimum_stays_a_candidate_and_nothing_is_served(
    gate_settings, conn, common_rows
):
    insert_rows(conn, common_rows)
    job = _train(conn, gate_settings.replace(train_promote_min_f1=1.0))

    assert job.outcome == "candidate"
    assert "below the minimum 1.000" in job.note
    assert artifact_db.stage_of(conn, job.model_version) == "candidate"
    assert artifact_db.read_pointer(conn).current is None
    assert artifacts.current_version(gate_settings.models_dir) is None
    # Copied all the same, so every replica lists it.
    assert job.model_version in artifacts.local_versions(gate_settings.models_dir)


def test_unchanged_data_is_skipped_unless_forced(gate_settings, conn, common_rows):
    insert_rows(conn, common_rows)
    first = _train(conn, gate_settings)

    skipped = _train(conn, gate_settings)
    assert skipped.outcome == "skipped"
    assert skipped.model_version == first.model_version
    assert "has not changed" in skipped.note
    assert artifact_db.kept_versions(conn) == [first.model_version]

    forced = _train(conn, gate_settings, force=True)
    assert forced.model_version != first.model_version
    # The same rows fit the same model: it is no worse, so it replaces the first.
    assert forced.outcome == "promoted"
    assert forced.metrics["f1_macro"] == first.metrics["f1_macro"]
    assert artifact_db.stages(conn) == {
        first.model_version: "archived",
        forced.model_version: "production",
    }


def test_a_model_trained_on_shuffled_labels_is_held_back_and_never_served(
    gate_settings, conn, common_rows
):
    insert_rows(conn, common_rows)
    good = _train(conn, gate_settings)
    texts = [text for text, _ in common_rows] * 3
    labels = [label for _, label in common_rows] * 3
    random.Random(9).shuffle(labels)
    insert_rows(conn, zip(texts, labels, strict=True))

    bad = _train(conn, gate_settings)

    assert bad.outcome == "candidate"
    assert "below production's" in bad.note
    assert artifact_db.stage_of(conn, bad.model_version) == "candidate"
    assert artifact_db.stage_of(conn, good.model_version) == "production"
    assert artifacts.current_version(gate_settings.models_dir) == good.model_version
    gate = artifacts.verify(
        gate_settings.models_dir, bad.model_version, signing_key=TEST_SIGNING_KEY
    )["gate"]
    assert gate["promote"] is False
    assert gate["production_version"] == good.model_version
    assert gate["candidate_f1_macro"] < gate["production_f1_macro"] - 0.02


def _shuffled(rows, times=3):
    texts = [text for text, _ in rows] * times
    labels = [label for _, label in rows] * times
    random.Random(9).shuffle(labels)
    return zip(texts, labels, strict=True)


def _stored_holdout(conn, version):
    return conn.execute(
        "SELECT octet_length(holdout) FROM model_version WHERE version = %s", [version]
    ).fetchone()[0]


def test_without_a_refit_the_held_out_fit_is_stored_once_and_still_compared(
    gate_settings, conn, common_rows
):
    """Above TRAIN_REFIT_MAX_ROWS the published model is the fit scored on the held-out rows:
    it is not stored a second time, and the next run's gate compares against it all the same."""
    no_refit = gate_settings.replace(train_refit_max_rows=100)
    insert_rows(conn, common_rows)
    good = _train(conn, no_refit)

    assert good.metrics["refit"] is False
    assert _stored_holdout(conn, good.model_version) is None
    metadata = artifacts.verify(
        no_refit.models_dir, good.model_version, signing_key=TEST_SIGNING_KEY
    )
    assert metadata[artifacts.HOLDOUT_IS_MODEL_FIELD] is True

    insert_rows(conn, _shuffled(common_rows))
    bad = _train(conn, no_refit)

    assert bad.outcome == "candidate"
    assert "below production's" in bad.note
    gate = artifacts.verify(no_refit.models_dir, bad.model_version, signing_key=TEST_SIGNING_KEY)[
        "gate"
    ]
    assert gate["production_version"] == good.model_version
    assert gate["candidate_f1_macro"] < gate["production_f1_macro"] - 0.02


def test_with_a_refit_the_held_out_fit_is_stored_beside_the_model(gate_settings, conn, common_rows):
    insert_rows(conn, common_rows)
    job = _train(conn, gate_settings)

    assert job.metrics["refit"] is True
    assert _stored_holdout(conn, job.model_version) > 0


def test_a_production_model_that_kept_no_held_out_fit_is_not_compared(
    gate_settings, conn, common_rows
):
    insert_rows(conn, common_rows)
    first = _train(conn, gate_settings)
    # As a version trained before the promotion gate: no fit kept, and no mark saying the
    # model is the fit.
    conn.execute(
        "UPDATE model_version SET holdout = NULL WHERE version = %s", [first.model_version]
    )
    insert_rows(conn, common_rows[:50])

    second = _train(conn, gate_settings)

    assert f"production model {first.model_version} kept no held-out fit" in second.note


def test_staff_promote_a_candidate_and_roll_back_with_their_reasons(
    gate_settings, conn, common_rows
):
    insert_rows(conn, common_rows)
    first = _train(conn, gate_settings.replace(train_promote_min_f1=1.0))
    assert first.outcome == "candidate"
    assert artifact_db.activate(
        conn,
        first.model_version,
        signing_key=TEST_SIGNING_KEY,
        actor="alice",
        reason="promote: reviewed by hand",
        expect=("candidate",),
    )
    assert artifact_db.read_pointer(conn).current == first.model_version
    second = _train(conn, gate_settings, force=True)
    assert second.outcome == "promoted"

    assert artifact_db.activate(
        conn,
        first.model_version,
        signing_key=TEST_SIGNING_KEY,
        actor="bob",
        reason="rollback: the new one misroutes invoices",
        expect=("archived",),
    )
    assert artifact_db.stages(conn) == {
        first.model_version: "production",
        second.model_version: "archived",
    }
    # A promotion takes a candidate only: an archived version is refused, nothing changes.
    assert not artifact_db.activate(
        conn,
        second.model_version,
        signing_key=TEST_SIGNING_KEY,
        actor="bob",
        reason="promote: wrong door",
        expect=("candidate",),
    )
    assert artifact_db.read_pointer(conn).current == first.model_version

    history = [
        (c.version, c.from_stage, c.to_stage, c.actor, c.reason)
        for c in artifact_db.stage_changes(conn)
    ]
    assert history[:2] == [
        (
            first.model_version,
            "archived",
            "production",
            "bob",
            "rollback: the new one misroutes invoices",
        ),
        (
            second.model_version,
            "production",
            "archived",
            "bob",
            f"replaced by {first.model_version}: rollback: the new one misroutes invoices",
        ),
    ]
    assert (
        first.model_version,
        "candidate",
        "production",
        "alice",
        "promote: reviewed by hand",
    ) in history
