"""Switch back: staff make a kept version current; predictions follow within a second on every
ML API worker; consumers get 403, anonymous callers 401, unknown versions 404."""

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from chaos_stack import train
from harness import Api

SWITCH_BOUND_SECONDS = 1.0
WATCH_SECONDS = 3.0
THREADS = 4


@pytest.fixture
def two_versions(admin, current_model, references) -> tuple[str, str]:
    """(current, another kept version), training a second one if there is only one."""
    models = admin.get("/api/models/").json()
    if len(models["results"]) < 2:
        assert train(admin)["status"] == "succeeded"
        references.observe()
        models = admin.get("/api/models/").json()
    current = models["current"]
    others = [m["version"] for m in models["results"] if m["version"] != current]
    known = [v for v in others if v in references.by_version]
    return current, (known or others)[0]


# The version each ML API worker process serves, read from its own prometheus multiprocess file
# (ml_model_info{version} is 1 for the version the process serves): one answer per live worker.
SERVED_VERSIONS = r"""
import glob, json, os
from prometheus_client.mmap_dict import MmapedDict

def stat(pid):
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()

def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read()

workers = [p for p in os.listdir("/proc") if p.isdigit() and stat(p)[1] == "1"
           and b"gunicorn" in cmdline(p)]
directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
served = {}
for pid in workers:
    served[pid] = None
    path = f"{directory}/gauge_livemax_{pid}.db"
    if not os.path.exists(path):
        continue
    values = MmapedDict(path, read_mode=True)
    for key, value, *_ in values.read_all_values():
        name, _, labels, _ = json.loads(key)
        if name == "ml_model_info" and value == 1:
            served[pid] = labels["version"]
    values.close()
print(json.dumps(served))
"""


def served_versions(stack) -> dict[str, str | None]:
    """{pid: version it serves} for every gunicorn worker of the ML API."""
    result = stack.exec("algorithm", "python", "-c", SERVED_VERSIONS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def loads_of(stack, version: str, since: datetime) -> list[float]:
    """When (epoch seconds) ML API workers loaded `version` since `since`, from their logs."""
    time.sleep(2)  # the ML API writes its info lines in batches, up to 1 s late
    logs = stack.compose(
        "logs", "--no-color", "--no-log-prefix", "--since", since.isoformat(), "algorithm"
    ).stdout
    loads = []
    for line in logs.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "Loaded model version" and entry.get("model_version") == version:
            stamp = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
            loads.append(stamp.timestamp())
    return loads


def watch_predictions(stack, token: str, texts: list[str], seconds: float) -> list[tuple]:
    """(started, version, text index, probabilities) from several threads, through both the
    gateway (pooled connections) and /ml/ (a fresh upstream connection per request)."""
    calls: list[tuple] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        api = Api(stack.base_url, token)
        path = "/api/predict/" if n % 2 == 0 else "/ml/predict"
        i = n
        while time.monotonic() < stop_at:
            index = i % len(texts)
            i += 1
            started = time.monotonic()
            response = api.post(path, json={"text": texts[index]})
            body = response.json() if response.status_code == 200 else {}
            with lock:
                calls.append((started, body.get("model_version"), index, body.get("probabilities")))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return calls


def test_staff_switch_back_and_predictions_follow_within_a_second(
    stack, admin, consumer_key, two_versions, references, background, probe_texts, measured
):
    current, target = two_versions
    measured["served_before"] = served_versions(stack)
    since = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    response = admin.post(f"/api/models/{target}/activate/")
    activated = time.monotonic()
    activated_epoch = time.time()
    measured["activate_seconds"] = round(activated - started, 2)
    assert response.status_code == 200, response.text
    assert response.json()["current"] == target

    calls = watch_predictions(stack, consumer_key, probe_texts, WATCH_SECONDS)
    late = [c for c in calls if c[0] - activated >= SWITCH_BOUND_SECONDS]
    early = [c for c in calls if c[0] - activated < SWITCH_BOUND_SECONDS]
    measured["predictions_watched"] = len(calls)
    measured["old_version_within_first_second"] = sum(c[1] != target for c in early)
    assert late and {c[1] for c in late} == {target}, {c[1] for c in late}
    if target in references.by_version:
        assert all(references.matches(target, c[2], c[3]) for c in calls if c[1] == target)
    assert admin.get("/api/models/").json()["current"] == target
    # Every worker of the ML API switched: /ml/ requests (a fresh upstream connection each) reach
    # all of them; each must now serve the target.
    for _ in range(20):
        served = served_versions(stack)
        if set(served.values()) == {target}:
            break
        for text in probe_texts:
            response = Api(stack.base_url, consumer_key).post("/ml/predict", json={"text": text})
            assert response.json()["model_version"] == target
    measured["served_after"] = served
    assert served and set(served.values()) == {target}, served
    loads = loads_of(stack, target, since)
    measured["worker_loads_after_activate_seconds"] = [
        round(at - activated_epoch, 3) for at in sorted(loads)
    ]

    back = admin.post(f"/api/models/{current}/activate/")
    assert back.status_code == 200, back.text
    assert references.observe() == current


def test_a_consumer_cannot_activate_a_model(consumer, admin, two_versions):
    current, target = two_versions
    response = consumer.post(f"/api/models/{target}/activate/")
    assert response.status_code == 403, response.text
    assert response.json().get("detail")
    assert admin.get("/api/models/").json()["current"] == current


def test_activation_needs_a_token(stack, two_versions):
    _, target = two_versions
    assert Api(stack.base_url).post(f"/api/models/{target}/activate/").status_code == 401


def test_an_unknown_version_is_404(admin, current_model):
    response = admin.post("/api/models/20000101T000000.000000Z-000000/activate/")
    assert response.status_code == 404, response.text
    assert admin.get("/api/models/").json()["current"] == current_model
