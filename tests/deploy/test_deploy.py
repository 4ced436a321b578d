"""Staged deployment, end to end: releases, staging, smoke, promotion, rolls under load, rollbacks.

Two stages of the prod overlay (TLS, real secrets) run side by side; everything is done through
scripts/deploy and the stages' public URLs. The tests share the stages and run in file order.
Each roll's figures (requests, failures, longest answer, duration) go to
tests/deploy/artifacts/figures.json and the output (`pytest -s`).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from load import Load
from stages import ADMIN_USERNAME, PREFIX, REPO_ROOT, STAGES, Deployer, stream

HERE = Path(__file__).resolve().parent
SAMPLE = REPO_ROOT / "data" / "sample" / "debian-packages-sample.csv.gz"
A, B, BROKEN = f"{PREFIX}-deploy-a", f"{PREFIX}-deploy-b", f"{PREFIX}-deploy-broken"
STAGING, PRODUCTION = STAGES
FIGURES = HERE / "artifacts" / "figures.json"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def deployer(tmp_path_factory):
    deployer = Deployer(tmp_path_factory.mktemp("deploy"), health_timeout=120)
    deployer.down()  # a leftover of an interrupted run must not leak into this one
    yield deployer
    if os.environ.get("DEPLOY_KEEP_STAGES") != "1":
        deployer.down()


def image_ids(tags: tuple[str, ...]) -> set[str]:
    refs = [f"textclf-{image}:{tag}" for image in ("web", "algorithm", "nginx") for tag in tags]
    found = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", *refs],
                           capture_output=True, text=True, check=False)  # fmt: skip
    return set(found.stdout.split())


def remove_images(tags: tuple[str, ...], ids: set[str]) -> None:
    """This run's tags, then the images they named, if nothing else names them (a tag of
    another run or an e2e stack's `latest` keeps its image: `rmi` of a shared id fails)."""
    refs = [f"textclf-{image}:{tag}" for image in ("web", "algorithm", "nginx") for tag in tags]
    subprocess.run(["docker", "image", "rm", *refs], capture_output=True, check=False)
    for image_id in ids:
        subprocess.run(["docker", "image", "rm", image_id], capture_output=True, check=False)


@pytest.fixture(scope="module")
def releases(deployer):
    """A by `release`; B the same commit plus an expand migration and an nginx with other files
    (so nginx itself rolls); BROKEN: B whose web never becomes healthy. B and BROKEN are images
    made here, recorded with `register`. Afterwards,
    pass or fail, the stages go and then the images and tags made here (this teardown runs
    before the deployer's, and a container keeps its image)."""
    tags = (A, B, BROKEN)
    made: set[str] = set()
    try:
        assert deployer("release", "--tag", A).returncode == 0
        assert deployer("release", "--tag", B).returncode == 0
        made |= image_ids(tags)  # B's web before the expand build takes its tag
        for name, image, tag in (("expand", "web", B), ("broken", "web", BROKEN),
                                 ("edge", "nginx", B)):  # fmt: skip
            docker("build", "-q", "-t", f"textclf-{image}:{tag}", "--build-arg",
                   f"BASE=textclf-{image}:{B}", str(HERE / name))  # fmt: skip
        for image in ("algorithm", "nginx"):
            docker("tag", f"textclf-{image}:{B}", f"textclf-{image}:{BROKEN}")
        for tag in (B, BROKEN):
            assert deployer("register", tag).returncode == 0
        yield
    finally:
        if os.environ.get("DEPLOY_KEEP_STAGES") != "1":
            deployer.down()  # the stages' containers hold the images
            remove_images(tags, made | image_ids(tags))


@pytest.fixture(scope="module")
def figures():
    collected = {}
    yield collected
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(collected, indent=2) + "\n")


def token(deployer: Deployer, https_port: int) -> str:
    response = requests.post(
        f"https://127.0.0.1:{https_port}/api/auth/token/",
        json={"username": ADMIN_USERNAME, "password": deployer.admin_password},
        verify=deployer.ca_file,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def sample_texts() -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)][:300]


def last_deploy(deployer: Deployer, stage: str) -> dict:
    return [r for r in deployer.records(stage) if r["event"] == "deploy"][-1]


def under_load(deployer, figures, name, *args, on_line=None):
    """scripts/deploy ARGS on staging while the load runs through its nginx; the load's own
    checks: every answer 2xx, and the stage holds exactly the rows it answered 201 for."""
    url = f"https://127.0.0.1:{STAGING.https_port}"
    load = Load(
        url, token(deployer, STAGING.https_port), deployer.ca_file, sample_texts(), pause=0.05
    )
    load.start()
    time.sleep(2)
    started = time.monotonic()
    code, lines = stream(deployer, *args, on_line=on_line)
    seconds = time.monotonic() - started
    time.sleep(2)
    load.stop()
    summary = {**load.summary(), "command_seconds": round(seconds, 1)}
    figures[name] = summary
    print(f"{name}: {json.dumps(summary)}", flush=True)
    assert load.failures == [], load.failures[:10]
    stored = requests.get(
        f"{url}/api/data/",
        params={"label": load.label},
        headers={"Authorization": f"Token {load.token}"},
        verify=deployer.ca_file,
        timeout=60,
    ).json()["count"]
    assert stored == len(load.created), "a row answered 201 is missing, or one was added twice"
    return code, lines


def test_a_release_is_built_once_and_says_what_it_is(deployer, releases):
    manifest = deployer.manifest(A)
    revision = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    assert manifest["revision"].removesuffix("-dirty") == revision
    for image in manifest["images"].values():
        assert (
            docker("image", "inspect", "--format", "{{.Id}}", image["ref"]).strip() == image["id"]
        )
        labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}",
                                   image["ref"]))  # fmt: skip
        assert labels["org.opencontainers.image.revision"] == manifest["revision"]
        assert labels["org.opencontainers.image.version"] == A
        assert labels["org.opencontainers.image.created"] == manifest["created"]

    again = deployer("release", "--tag", A)
    assert again.returncode != 0
    assert "a release is built once" in again.stderr


def test_staging_passes_smoke_and_production_runs_the_same_images(deployer, releases, figures):
    started = time.monotonic()
    assert deployer("deploy", "staging", A).returncode == 0
    figures["first_deploy_staging_seconds"] = round(time.monotonic() - started, 1)

    refused = deployer("promote")
    assert refused.returncode != 0
    assert f"refusing to promote {A}: no smoke run since its deploy on staging" in refused.stderr

    assert deployer("smoke", "staging").returncode == 0
    started = time.monotonic()
    assert deployer("promote").returncode == 0
    figures["promote_seconds"] = round(time.monotonic() - started, 1)

    staging, production = last_deploy(deployer, "staging"), last_deploy(deployer, "production")
    assert (production["release"], production["kind"], production["outcome"]) == (
        A,
        "promote",
        "succeeded",
    )
    images = {name: image["id"] for name, image in deployer.manifest(A)["images"].items()}
    expected = {
        "web": images["web"],
        "algorithm": images["algorithm"],
        "algorithm_celery": images["algorithm"],
        "flower": images["algorithm"],
        "nginx": images["nginx"],
    }
    assert staging["images"] == production["images"] == expected
    status = deployer("status", "production").stdout
    assert f"release:  {A} since {production['finished']} (promote)" in status
    assert "not " + A not in status  # no service runs another image


def test_every_service_reports_its_release_to_prometheus(deployer, releases):
    url = f"https://127.0.0.1:{PRODUCTION.https_port}/prometheus/api/v1/query"
    deadline = time.monotonic() + 60
    while True:
        answer = requests.get(
            url,
            params={"query": "build_info"},
            auth=("ops", deployer.ops_password),
            verify=deployer.ca_file,
            timeout=30,
        ).json()
        seen = {r["metric"]["job"]: r["metric"]["version"] for r in answer["data"]["result"]}
        if {"web", "algorithm", "algorithm_celery"} <= set(seen) or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert seen == {"web": A, "algorithm": A, "algorithm_celery": A}


def test_a_rolling_deploy_under_load_keeps_serving_and_a_training_spans_it(
    deployer, releases, figures
):
    """A to B on staging (B's migration adds a column while A's code keeps writing); a training
    is queued on the old worker as the worker's roll begins and must end succeeded."""
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token(deployer, STAGING.https_port)}"
    base = f"https://127.0.0.1:{STAGING.https_port}"
    job = {}
    stop_seen = {}

    def on_line(line: str) -> None:
        if "algorithm: rolled" in line:
            answer = api.post(f"{base}/api/train/", timeout=60, verify=deployer.ca_file)
            job["id"] = answer.json()["job_id"]
        if "algorithm_celery: stopping" in line:
            stop_seen["at"] = time.time()

    rolled_from = time.time()
    code, lines = under_load(
        deployer, figures, "roll_a_to_b", "deploy", "staging", B, on_line=on_line
    )
    assert code == 0
    record = last_deploy(deployer, "staging")
    assert record["outcome"] == "succeeded"
    # nginx itself was replaced under the load (which saw no failure): beside the old one.
    # One line says so: the roll's own, not a second summary after it.
    assert [line.split()[1] for _, line in lines if line.startswith("  nginx: r")] == ["rolled"]
    assert record["nginx"] == "rolled beside the old one"
    assert record["images"]["nginx"] == deployer.manifest(B)["images"]["nginx"]["id"]

    deadline = time.monotonic() + 1800
    while True:
        state = api.get(f"{base}/api/train/{job['id']}/", timeout=60, verify=deployer.ca_file)
        state = state.json()
        if state["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert state["status"] == "succeeded", state
    started = datetime.fromisoformat(state["started_at"]).timestamp()
    finished = datetime.fromisoformat(state["finished_at"]).timestamp()
    # It was running when the old worker was told to stop, and finished there.
    assert started < stop_seen["at"] < finished, (state, stop_seen)
    figures["training_spanning_roll"] = {
        "job_seconds": round(finished - started, 1),
        "running_when_old_worker_stopped_seconds": round(stop_seen["at"] - started, 1),
        "attempts": state["attempts"],
    }

    # The dashboards' deploy annotation (a release's build_info series is new) marks it.
    dashboard = json.loads((REPO_ROOT / "monitoring/grafana/dashboards/api.json").read_text())
    expr = next(a["expr"] for a in dashboard["annotations"]["list"] if a["name"] == "Deploys")
    # A replaced container's series appears once Prometheus has scraped it (every 10 s, and the
    # worker's new address may take a few): poll, as the build_info test does.
    expected = {("web", B), ("algorithm", B), ("algorithm_celery", B)}
    deadline = time.monotonic() + 60
    while True:
        marked = requests.get(
            f"{base}/prometheus/api/v1/query_range",
            params={"query": expr, "start": rolled_from, "end": time.time(), "step": 15},
            auth=("ops", deployer.ops_password),
            verify=deployer.ca_file,
            timeout=30,
        ).json()["data"]["result"]
        seen = {(r["metric"]["job"], r["metric"]["version"]) for r in marked}
        if seen >= expected or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert seen >= expected

    db = subprocess.run(
        ["docker", "compose", "-p", STAGING.project, "exec", "-T", "db", "psql", "-U", "textclf",
         "-d", "textclf", "-Atc", "SELECT count(*) FROM information_schema.columns "
         "WHERE table_name = 'data' AND column_name = 'deploy_test_note'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert db.stdout.strip() == "1"


def test_a_broken_release_is_rolled_back_by_itself_under_load(deployer, releases, figures):
    code, lines = under_load(deployer, figures, "broken_release", "deploy", "staging", BROKEN)
    output = "\n".join(line for _, line in lines)
    assert code != 0
    # gunicorn exits 3 ("Worker failed to boot"), or 1 when both workers fail at once: the
    # second failure is reaped inside the first one's shutdown and its HaltServer escapes.
    assert "Failed: web: exited with code " in output
    assert f"staging still runs {B}: {BROKEN} was rolled back" in output
    record = last_deploy(deployer, "staging")
    assert (record["release"], record["outcome"]) == (BROKEN, "rolled-back")
    assert "web: exited with code" in record["reason"]
    status = deployer("status", "staging").stdout
    assert f"release:  {B}" in status
    assert f"last deploy: {BROKEN} rolled-back" in status


def test_an_explicit_rollback_under_load_returns_to_the_previous_release(
    deployer, releases, figures
):
    code, _ = under_load(deployer, figures, "rollback_b_to_a", "rollback", "staging")
    assert code == 0
    record = last_deploy(deployer, "staging")
    assert (record["release"], record["kind"], record["previous"]) == (A, "rollback", B)
    images = deployer.manifest(A)["images"]
    assert record["images"]["web"] == images["web"]["id"]
    assert record["images"]["algorithm_celery"] == images["algorithm"]["id"]
    assert record["images"]["nginx"] == images["nginx"]["id"]
    assert record["nginx"] == "rolled beside the old one"
    assert f"release:  {A}" in deployer("status", "staging").stdout
