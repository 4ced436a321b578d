"""The `textclf` command-line client against the compose stack, through nginx."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from openpyxl import Workbook

from conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from harness import Api


class Cli:
    def __init__(self, home: Path, base_url: str, ca_file: str | None = None) -> None:
        self.home = home
        self.base_url = base_url
        self.ca_file = ca_file

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTCLF_")}
        env.update(
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_STATE_HOME=str(self.home / "state"),
            COLUMNS="200",
            # the prod profile's self-signed certificate
            **({"TEXTCLF_CA_FILE": self.ca_file} if self.ca_file else {}),
            **extra,
        )
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "textclf_cli", *args]

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 600, **env: str):
        return subprocess.run(
            self.command(*args),
            input=stdin,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def cli(stack, tmp_path_factory) -> Cli:
    """Logged in as the staff admin once: login is throttled."""
    cli = Cli(tmp_path_factory.mktemp("textclf-home"), stack.base_url, stack.ca_file)
    result = cli(
        "login",
        "--url",
        stack.base_url,
        "--username",
        ADMIN_USERNAME,
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    return cli


@pytest.fixture(scope="session")
def consumer_token(stack) -> str:
    result = stack.exec("web", "python", "manage.py", "create_api_token", "e2e-cli-consumer")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def label_rows(api: Api, label: str) -> list[dict]:
    return api.get("/api/data/", params={"label": label, "page_size": 1000}).json()["results"]


def test_login_keeps_the_token_owner_only(cli):
    path = cli.home / "config" / "textclf" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert cli.base_url in path.read_text()
    assert cli("models").returncode == 0


def _rows(label: str) -> list[tuple[str, str]]:
    # Line 2 is the header's next line; the third row has a blank label.
    return [(f"{label} first text", label), (f"{label} second text", label), (f"{label} bad", " ")]


def _write_csv(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def _write_jsonl(path: Path, rows) -> None:
    path.write_text(
        "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows),
        encoding="utf-8",
    )


def _write_xlsx(path: Path, rows) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["text", "label"])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)


@pytest.mark.parametrize(
    ("suffix", "writer", "bad_line"),
    [("csv", _write_csv, 4), ("jsonl", _write_jsonl, 3), ("xlsx", _write_xlsx, 4)],
)
def test_import_adds_the_good_rows_and_names_the_bad_line(
    cli, api, tmp_path, suffix, writer, bad_line
):
    label = f"cli-{suffix}-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"rows.{suffix}"
    writer(path, _rows(label))

    result = cli("import", str(path))

    assert result.returncode == 5, result.stderr  # some rows rejected
    assert "Added 2 rows, rejected 1" in result.stdout
    assert f"│ {bad_line} " in result.stdout
    assert "label: This field may not be blank." in result.stdout
    assert sorted(row["text"] for row in label_rows(api, label)) == [
        f"{label} first text",
        f"{label} second text",
    ]


def test_an_interrupted_import_resumes_without_duplicates(cli, api, tmp_path):
    label = f"cli-resume-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "many.csv"
    _write_csv(path, [(f"{label} row {index}", label) for index in range(300)])
    state_dir = cli.home / "state" / "textclf" / "imports"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    # Batches of one row: the import takes long enough to be killed in the middle of it.
    process = subprocess.Popen(
        cli.command("import", str(path), "--batch-size", "1"),
        env=cli.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done = 0
    deadline = time.monotonic() + 120
    while done < 20 and time.monotonic() < deadline and process.poll() is None:
        for state in state_dir.glob(f"{digest}-*.json"):  # earlier tests' records are there too
            with contextlib.suppress(ValueError, OSError, KeyError):  # caught mid-rename
                done = json.loads(state.read_text())["done"]
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    saved_before = len(label_rows(api, label))
    assert 20 <= saved_before < 300

    again = cli("import", str(path))
    assert again.returncode == 2
    assert "--resume" in again.stderr

    resumed = cli("import", str(path), "--resume", "--batch-size", "100")

    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed after row" in resumed.stdout
    texts = [row["text"] for row in label_rows(api, label)]
    assert len(texts) == 300
    assert sorted(texts) == sorted(f"{label} row {index}" for index in range(300))


def test_export_round_trip(cli, api, tmp_path):
    label = f"cli-export-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "source.jsonl"
    rows = [(f'{label} ünïcode ✓ "quoted", comma\nnewline {index}', label) for index in range(5)]
    _write_jsonl(source, rows)
    assert cli("import", str(source)).returncode == 0

    for fmt in ("csv", "jsonl"):
        exported = tmp_path / f"export.{fmt}"
        result = cli("export", "--format", fmt, "-o", str(exported))
        assert result.returncode == 0, result.stderr
        total = api.get("/api/data/", params={"page_size": 1}).json()["count"]
        assert f"Exported {total:,} rows" in result.stdout
        if fmt == "csv":
            with open(exported, encoding="utf-8", newline="") as handle:
                back = [(row["text"], row["label"]) for row in csv.DictReader(handle)]
        else:
            back = [
                (item["text"], item["label"])
                for item in map(json.loads, exported.read_text(encoding="utf-8").splitlines())
            ]
        assert len(back) == total
        assert [row for row in back if row[1] == label] == rows

        # Everything exported is on the server already: importing it again adds nothing.
        again = cli("import", str(exported), "--skip-existing")
        assert again.returncode == 0, again.stderr
        assert f"Added 0 rows, rejected 0, skipped {total:,} already on the server" in again.stdout


def test_train_follows_the_job_to_the_end(cli, api, loaded_corpus):
    # Forced: the data may be what the production model already learned (then it is skipped).
    result = cli("train", "--follow", "--force")

    assert result.returncode == 0, result.stderr
    job_id = result.stdout.split("job ", 1)[1].split()[0]
    job = api.get(f"/api/train/{job_id}/").json()
    assert job["status"] == "succeeded"
    assert f"Training succeeded: model {job['model_version']}" in result.stdout
    assert f"held-out accuracy {job['metrics']['accuracy']:.3f}" in result.stdout
    assert "succeeded" in result.stderr  # the live display's last state


def test_predict_from_stdin_as_json(cli, api, trained_job, corpus):
    texts = [row["text"] for row in corpus.held_out[:3]]

    result = cli("predict", "-", "--json", stdin="\n".join(texts) + "\n")

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert [item["text"] for item in body["predictions"]] == texts
    expected = api.post("/api/predict/", json={"texts": texts}).json()
    assert [item["label"] for item in body["predictions"]] == [
        item["label"] for item in expected["predictions"]
    ]
    for item in body["predictions"]:
        assert abs(sum(item["probabilities"].values()) - 1) < 1e-6


def test_predict_table_and_models(cli, api, trained_job):
    current = api.get("/api/models/").json()["current"]

    table = cli("predict", "A 3D space shooter with multiplayer")
    models = cli("models")

    assert table.returncode == 0, table.stderr
    assert f"model {current}" in table.stdout
    assert models.returncode == 0, models.stderr
    assert current in models.stdout


def test_a_bad_token_says_log_in_again(cli):
    result = cli("models", TEXTCLF_TOKEN="not-a-valid-token")

    assert result.returncode == 4
    assert result.stderr.startswith("textclf: error: Not authenticated")
    assert "textclf login" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_consumer_cannot_train_and_is_told_why(cli, consumer_token):
    result = cli("train", TEXTCLF_TOKEN=consumer_token)

    assert result.returncode == 4
    assert result.stderr.startswith("textclf: error: Forbidden")
    assert "staff account" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_server_is_a_clear_error(cli):
    result = cli("models", TEXTCLF_URL="http://127.0.0.1:9")

    assert result.returncode == 3
    assert "connection refused" in result.stderr
