"""Model integrity: every published version is signed; a tampered or unsigned version is refused
(logged, shown in health) and every ML API worker serves the last good version (the one the last
publish or activation made current), whatever it held before. Postgres holds the versions (the
ML role may not rewrite one); the models volume is each API's local copy of them.

Tampering happens inside algorithm_celery, which shares the volume with the ML API here: a
kept, non-current version is altered in place, then `current` is pointed at it the way a publish
does (a fresh symlink renamed over it). Its pristine files are restored afterwards.
"""

import json
import time
from datetime import UTC, datetime

import pytest

from chaos_stack import train
from harness import Api
from test_model_activation import served_versions

TAMPER = r"""
import hashlib, json, os, shutil, sys
mode, version = sys.argv[1], sys.argv[2]
models = "/models"
directory = f"{models}/versions/{version}"
backup = f"{models}/tmp/chaos-backup-{version}"

def point_current(target):
    link = f"{models}/tmp/chaos-link"
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(f"versions/{target}", link)
    os.replace(link, f"{models}/current")

if mode == "show":
    print(open(f"{directory}/metadata.json").read())
elif mode == "current":
    print(os.path.basename(os.readlink(f"{models}/current")))
elif mode == "verify-sha":
    meta = json.load(open(f"{directory}/metadata.json"))
    print(json.dumps({name: hashlib.sha256(open(f"{directory}/{name}", "rb").read()).hexdigest()
                      == digest for name, digest in meta["sha256"].items()}))
elif mode == "point":
    point_current(version)
elif mode == "restore":
    shutil.rmtree(directory)
    shutil.copytree(backup, directory)
    shutil.rmtree(backup)
else:
    if not os.path.exists(backup):
        shutil.copytree(directory, backup)
    if mode == "oversized":
        # Past MODEL_MAX_BYTES (128 MiB) on disk, sparse so it costs no space: refused from its
        # size before anything is read.
        path = f"{directory}/model.pickle"
        os.truncate(path, os.path.getsize(path) + 130 * 1024 * 1024)
        sys.exit()
    # Appended bytes: the pickle still loads (they follow its STOP opcode), only checks catch it.
    with open(f"{directory}/model.pickle", "ab") as handle:
        handle.write(b"tampered by the chaos suite")
    if mode in ("unsigned", "stale-signature"):
        meta = json.load(open(f"{directory}/metadata.json"))
        with open(f"{directory}/model.pickle", "rb") as handle:
            meta["sha256"]["model.pickle"] = hashlib.sha256(handle.read()).hexdigest()
        if mode == "unsigned":
            meta.pop("signature", None)
        with open(f"{directory}/metadata.json", "w") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
"""
TAMPERINGS = {
    # model.pickle altered, metadata untouched: its sha256 no longer matches.
    "bytes": "does not match its signed sha256",
    # model.pickle altered and its sha256 recomputed, signature removed: only the HMAC can tell.
    "unsigned": "is not signed",
    # the same, the old signature kept: it no longer matches the metadata.
    "stale-signature": "signature is invalid",
    # model.pickle grown past MODEL_MAX_BYTES: never read, let alone unpickled.
    "oversized": "MODEL_MAX_BYTES",
}
REFUSAL_EVENT = "Refused model version; serving the last good one"


def refusals_logged(stack, version: str, since: str) -> list[dict]:
    """The ML API's log entries refusing `version` since `since`."""
    logs = stack.compose("logs", "--no-color", "--no-log-prefix", "--since", since, "algorithm")
    entries = []
    for line in logs.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == REFUSAL_EVENT and entry.get("model_version") == version:
            entries.append(entry)
    return entries


def in_worker(stack, *args: str) -> str:
    result = stack.exec("algorithm_celery", "python", "-c", TAMPER, *args)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def kept_versions(admin, references, count: int) -> tuple[str, list[str]]:
    """(the current version, at least `count` other kept versions), training more if needed."""
    while True:
        models = admin.get("/api/models/").json()
        others = [m["version"] for m in models["results"] if m["version"] != models["current"]]
        if len(others) >= count:
            return models["current"], others
        assert train(admin)["status"] == "succeeded"
        references.observe()


def point_until_refused(stack, admin, victim: str, reason: str, timeout: float = 60) -> int:
    """Waits until the ML API reports refusing `victim`, pointing `current` at it again whenever a
    model follower has put it back; returns how many times that was needed.

    The local `current` is a cache of Postgres's pointer: each ML API process's follower moves it
    back after any change it has not synced yet (the training or activation just before this test,
    or a reconnect after the database tests), and a loaded machine can delay that sync by seconds,
    past the moment the test pointed it at the victim. No worker then ever looks at the victim, and
    nothing is refused or logged (a failure of [bytes-0] seen once). Followers sync only on a
    change, so once they have, the test's pointer stays.
    """
    repointed = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reason in (admin.get("/ml/health/ready").json().get("model_error") or ""):
            return repointed
        if in_worker(stack, "current", victim).strip() != victim:
            in_worker(stack, "point", victim)
            repointed += 1
        time.sleep(0.5)
    raise AssertionError(f"no ML API worker refused {victim} within {timeout:g} s")


@pytest.fixture
def good_and_victim(request, admin, current_model, references) -> tuple[str, str]:
    """(the current good version, a kept non-current version to tamper with).

    Each tampering gets a victim of its own, so that each is judged on its own files.
    """
    index = getattr(request, "param", 0)
    good, others = kept_versions(admin, references, index + 1)
    return good, others[index]


def test_the_current_version_is_signed_and_its_checksums_hold(stack, current_model, measured):
    metadata = json.loads(in_worker(stack, "show", current_model))
    measured["metadata_keys"] = sorted(metadata)
    assert metadata.get("signature"), "metadata.json carries no signature"
    assert set(metadata["sha256"]) == {"model.pickle", "vectorizer.pickle"}
    assert json.loads(in_worker(stack, "verify-sha", current_model)) == {
        "model.pickle": True,
        "vectorizer.pickle": True,
    }


@pytest.mark.parametrize(
    ("tampering", "good_and_victim"),
    [(name, index) for index, name in enumerate(TAMPERINGS)],
    indirect=["good_and_victim"],
)
def test_a_tampered_version_is_refused_and_the_last_good_one_keeps_serving(
    stack,
    admin,
    consumer,
    consumer_key,
    good_and_victim,
    references,
    background,
    probe_texts,
    tampering,
    measured,
):
    good, victim = good_and_victim
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_worker(stack, tampering, victim)
    try:
        refused = admin.post(f"/api/models/{victim}/activate/")
        measured["activate_status"] = refused.status_code
        measured["activate_detail"] = refused.json().get("detail")
        assert refused.status_code == 409, refused.text
        assert TAMPERINGS[tampering] in refused.json()["detail"]
        assert admin.get("/api/models/").json()["current"] == good

        in_worker(stack, "point", victim)  # as if a publish had put it there
        pointed = time.monotonic()
        measured["repointed"] = point_until_refused(stack, admin, victim, TAMPERINGS[tampering])
        for path in ("/api/predict/", "/ml/predict") * 4:
            response = consumer.post(path, json={"text": probe_texts[0]})
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            assert body["model_version"] == good, body["model_version"]
            assert references.matches(good, 0, body["probabilities"])
        # Every worker, including those that saw no request since `good` went live, serves it:
        # /ml/ requests (a fresh upstream connection each) reach all of them.
        for _ in range(20):
            served = served_versions(stack)
            if set(served.values()) == {good}:
                break
            for text in probe_texts:
                response = Api(stack.base_url, consumer_key).post(
                    "/ml/predict", json={"text": text}
                )
                assert response.status_code == 200, response.text
                assert response.json()["model_version"] == good
        measured["served_by_worker"] = served
        assert served and set(served.values()) == {good}, served
        ready = admin.get("/ml/health/ready").json()
        measured["model_error"] = ready.get("model_error")
        assert ready.get("model_version") == good, ready
        assert TAMPERINGS[tampering] in (ready.get("model_error") or ""), ready
        refusals = refusals_logged(stack, victim, since)
        measured["refusals_logged"] = len(refusals)
        assert refusals, "the refusal is not logged with the version"
        assert {entry["serving"] for entry in refusals} == {good}
        predictions = background.calls("predict", since=pointed)
        assert {(c.status, c.model_version) for c in predictions} <= {(200, good)}
    finally:
        in_worker(stack, "point", good)
        in_worker(stack, "restore", victim)
    assert references.observe() == good


@pytest.mark.parametrize("good_and_victim", [0], indirect=True)  # a restart forgets refusals
def test_a_restarted_ml_api_refuses_a_tampered_current_version_and_serves_a_good_one(
    stack, consumer, good_and_victim, references, probe_texts, measured
):
    """gunicorn recycles workers (max_requests): a fresh worker, which has no last good model in
    memory, must neither serve the tampered version nor answer "no model". A restarted API also
    puts the local `current` back where Postgres, the system of record, points: at `good`."""
    good, victim = good_and_victim
    in_worker(stack, "unsigned", victim)
    try:
        in_worker(stack, "point", victim)
        stack.compose("restart", "algorithm")
        stack.up("algorithm")  # waits until healthy
        response = consumer.post("/api/predict/", json={"text": probe_texts[0]})
        measured["status"] = response.status_code
        measured["body"] = response.text[:300]
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_version"] == good
        assert references.matches(good, 0, body["probabilities"])
        ready = consumer.get("/ml/health/ready").json()
        measured["ready"] = ready
        assert ready["model_version"] == good, ready
    finally:
        in_worker(stack, "point", good)
        in_worker(stack, "restore", victim)
    assert references.observe() == good
