"""The load run of `make chaos`: prepare the chaos stack, then run locust headless against nginx.

Locust stays on 127.0.0.1 (the target is the loopback port nginx publishes; headless mode opens
no web UI) and stops by itself: LOAD_AFTER_PUBLISH_SECONDS (60) after the training started
LOAD_TRAIN_AFTER_SECONDS (30) into the run is published, or at LOAD_RUN_TIME (420 s) at the
latest. The table is filled up to MIN_ROWS real rows first (the fault suite's last module leaves
it empty); training them under load takes about a minute on 2 cores, so a run lasts about three.
Exit status: locust's, non-zero on any violation (locustfile.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from chaos_stack import (
    admin_token,
    chaos_stack,
    consumer_token,
    load_rows,
    read_corpus,
    row_count,
    train,
)
from harness import REPO_ROOT, Api

HERE = Path(__file__).resolve().parent
USERS = os.environ.get("LOAD_USERS", "6")
SPAWN_RATE = os.environ.get("LOAD_SPAWN_RATE", "3")
# A cap: the run normally ends soon after the mid-run training is published (see locustfile).
RUN_TIME = os.environ.get("LOAD_RUN_TIME", "420s")
TRAIN_AFTER_SECONDS = os.environ.get("LOAD_TRAIN_AFTER_SECONDS", "30")
AFTER_PUBLISH_SECONDS = os.environ.get("LOAD_AFTER_PUBLISH_SECONDS", "60")
FIXED_TEXTS = 16
# Enough rows for the mid-run training to overlap a good part of the load.
MIN_ROWS = 20_000


def main() -> int:
    stack = chaos_stack()
    admin = Api(stack.base_url, admin_token(stack))
    admin.wait_until_ready()
    corpus = read_corpus()
    if row_count(admin) < MIN_ROWS:
        load_rows(admin, corpus, MIN_ROWS)
    if admin.get("/api/models/").json()["current"] is None:
        job = train(admin)
        if job["status"] != "succeeded":
            print(f"could not train a first model: {job}", file=sys.stderr)
            return 1

    report = Path(os.environ.get("LOAD_REPORT", REPO_ROOT / ".venv" / "chaos" / "load.json"))
    report.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as texts:
        json.dump([row["text"] for row in corpus[:FIXED_TEXTS]], texts)
    env = {
        **os.environ,
        "LOAD_TOKEN": consumer_token(stack, "load-consumer"),
        "LOAD_STAFF_TOKEN": admin.session.headers["Authorization"].split()[1],
        "LOAD_TEXTS_FILE": texts.name,
        "LOAD_TRAIN_AFTER_SECONDS": TRAIN_AFTER_SECONDS,
        "LOAD_AFTER_PUBLISH_SECONDS": AFTER_PUBLISH_SECONDS,
        "LOAD_REPORT": str(report),
    }
    command = [
        str(Path(sys.executable).with_name("locust")),
        "--locustfile", str(HERE / "locustfile.py"),
        "--headless",
        "--host", stack.base_url,
        "--web-host", "127.0.0.1",
        "--users", USERS,
        "--spawn-rate", SPAWN_RATE,
        "--run-time", RUN_TIME,
        "--stop-timeout", "10",
        "--only-summary",
    ]  # fmt: skip
    print("+ " + " ".join(command), flush=True)
    try:
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        os.unlink(texts.name)


if __name__ == "__main__":
    sys.exit(main())
