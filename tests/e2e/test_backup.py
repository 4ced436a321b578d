"""make backup / make restore: a restore into an emptied stack keeps every row and the model."""

import shutil
import stat
import subprocess

import pytest

pytestmark = pytest.mark.disruptive


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tamper_with_the_dump(folder):
    with (folder / "db.dump").open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _truncate_the_models(folder):
    with (folder / "models.tar.gz").open("r+b") as handle:
        handle.truncate(10)


def _drop_a_line(folder):
    sums = folder / "SHA256SUMS"
    sums.write_text(sums.read_text().splitlines()[0] + "\n")
    (folder / "db.dump").write_bytes(b"not a dump")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_with_the_dump, "does not match its SHA256SUMS"),
        (_truncate_the_models, "does not match its SHA256SUMS"),
        (lambda folder: (folder / "SHA256SUMS").unlink(), "SHA256SUMS is missing"),
        (lambda folder: (folder / "models.tar.gz").unlink(), "does not match its SHA256SUMS"),
        (_drop_a_line, "must list db.dump and models.tar.gz"),
    ],
    ids=["dump-changed", "models-truncated", "sums-missing", "file-missing", "line-dropped"],
)
def test_restore_refuses_a_backup_it_cannot_verify_and_touches_nothing(
    stack, api, loaded_corpus, verified_backup, tmp_path, tamper, message
):
    rows = api.get("/api/data/", params={"page_size": 1}).json()["count"]
    folder = tmp_path / "copy"
    shutil.copytree(verified_backup, folder)
    tamper(folder)

    with pytest.raises(subprocess.CalledProcessError) as refused:
        stack.run("scripts/restore", str(folder))

    assert message in refused.value.stderr
    assert "nothing was changed" in refused.value.stderr
    # The restore stops the worker before its first write: it must still be running.
    running = stack.compose("ps", "--status", "running", "--services").stdout.split()
    assert "algorithm_celery" in running
    assert api.get("/api/data/", params={"page_size": 1}).json()["count"] == rows


@pytest.fixture(scope="module")
def verified_backup(stack, trained_job, tmp_path_factory):
    folder = tmp_path_factory.mktemp("backup") / "private"
    stack.run("scripts/backup", str(folder))
    return folder


def test_a_backup_is_readable_by_its_owner_only(verified_backup):
    assert _mode(verified_backup) == 0o700
    files = sorted(path.name for path in verified_backup.iterdir())
    assert files == ["SHA256SUMS", "db.dump", "models.tar.gz"]
    for path in verified_backup.iterdir():
        assert _mode(path) == 0o600, path.name


def test_backup_and_restore_into_an_emptied_stack(stack, api, trained_job, loaded_corpus, tmp_path):
    rows = api.get("/api/data/", params={"page_size": 1}).json()["count"]
    current_model = api.get("/api/models/").json()["current"]
    text = loaded_corpus.held_out[2]["text"]
    label_before = api.post("/api/predict/", json={"text": text}).json()["label"]

    stack.run("scripts/backup", str(tmp_path / "backup"))
    stack.down(volumes=True)
    stack.up()
    # Until the restore, the emptied database knows nothing of this session's token.
    stack.run("scripts/restore", str(tmp_path / "backup"))

    api.wait_until_ready()
    assert api.get("/api/data/", params={"page_size": 1}).json()["count"] == rows
    assert api.get("/api/models/").json()["current"] == current_model
    assert api.get(f"/api/train/{trained_job['job_id']}/").json()["status"] == "succeeded"
    prediction = api.post("/api/predict/", json={"text": text}).json()
    assert prediction["model_version"] == current_model
    assert prediction["label"] == label_before
