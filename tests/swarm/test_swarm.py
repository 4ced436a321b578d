"""The stack on a three-node swarm: convergence, requests through nginx on several nodes, the same
model on every ML API replica, rolling updates under load, an automatic rollback and the loss of a
node. The tests run in this order and share the one swarm (conftest.py)."""

from __future__ import annotations

import json
import time

import pytest
from harness.probes import REDIS_PASSWORD_PROBE

import swarm
from swarm import Api, PredictionLoad, manager, running_tasks, wait_until

pytestmark = pytest.mark.usefixtures("stack")

REPLICATED = ("web", "algorithm", "nginx")
STATE: dict = {}


def nginx_nodes() -> list[int]:
    return sorted(swarm.node_number(t.node) for t in running_tasks("nginx"))


def test_every_service_converged_with_replicas_on_several_nodes():
    services = {
        line.split()[0]: line.split()[1]
        for line in manager(
            "service",
            "ls",
            "--filter",
            f"label=com.docker.stack.namespace={swarm.STACK}",
            "--format",
            "{{.Name}} {{.Replicas}}",
        ).splitlines()
    }
    assert len(services) == 10, services
    for name, replicas in services.items():
        if name.endswith("_migrate"):
            continue
        running, desired = replicas.split("/")
        assert running == desired != "0", (name, replicas)
    for name in REPLICATED:
        nodes = {t.node for t in running_tasks(name)}
        assert len(nodes) >= 2, (name, nodes)
    for name in ("db", "redis"):
        assert [t.node for t in running_tasks(name)] == ["node1"], name


def test_the_release_runs_with_its_secrets_as_swarm_secrets():
    images = {
        "web": "web",
        "web_migrate": "web",
        "algorithm": "algorithm",
        "algorithm_migrate": "algorithm",
        "algorithm_celery": "algorithm",
        "flower": "algorithm",
        "nginx": "nginx",
    }
    for name, image in images.items():
        assert _service_image(name) == f"{swarm.NODE_REGISTRY}/textclf-{image}:{swarm.RELEASE}"
    names = manager("secret", "ls", "--format", "{{.Name}}").split()
    assert len([n for n in names if n.startswith(f"{swarm.STACK}_")]) == 14, names
    values = [p.read_text().strip() for p in (swarm.STATE_DIR / "secrets").iterdir()]
    specs = manager(
        "service",
        "inspect",
        *manager(
            "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={swarm.STACK}"
        ).split(),
    )
    assert not [v for v in values if v in specs], "a secret's value is in a service's spec"


def test_redis_refuses_a_client_without_the_password():
    (task,) = running_tasks("algorithm_celery")
    output = swarm.on_node(
        swarm.node_number(task.node), "exec", task.container, "python", "-c", REDIS_PASSWORD_PROBE
    )
    anonymous, authenticated = output.splitlines()
    assert "NOAUTH" in anonymous
    assert authenticated == repr(b"+OK\r\n+PONG\r\n")


def test_a_token_a_training_and_predictions_through_nginx_on_two_nodes(corpus, figures):
    first, second = nginx_nodes()[:2]
    anonymous = Api(swarm.nginx_url(first))
    response = anonymous.post("/api/auth/token/", json=swarm.admin())
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    STATE["token"] = token

    api = Api(swarm.nginx_url(first), token)
    for start in range(0, len(corpus), 500):
        response = api.post("/api/data/", json=corpus[start : start + 500])
        assert response.status_code == 201, response.text[:300]

    other = Api(swarm.nginx_url(second), token)  # the other node's nginx
    started = time.monotonic()
    response = other.post("/api/train/")
    assert response.status_code == 202, response.text
    job = other.wait_for_job(response.json()["job_id"])
    assert job["status"] == "succeeded", job
    figures[f"training on {len(corpus)} rows (queued to succeeded)"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    STATE["first_version"] = job["model_version"]

    def both_answer() -> bool:
        answers = [
            Api(swarm.nginx_url(n), token).post("/api/predict/", json={"text": corpus[0]["text"]})
            for n in (first, second)
        ]
        return all(
            a.status_code == 200 and a.json()["model_version"] == job["model_version"]
            for a in answers
        )

    # The replicas copy the new version within seconds of its publication.
    wait_until(both_answer, timeout=60, what="predictions through both nodes' nginx")


def test_ml_api_replicas_on_different_nodes_serve_the_same_version(figures):
    expected = STATE["first_version"]
    versions = wait_until(
        lambda: (v := swarm.replica_versions()) and set(v.values()) == {expected} and v,
        timeout=60,
        what="every replica serving the trained version",
    )
    nodes = {key.split("/")[0] for key in versions}
    assert len(nodes) >= 2, versions
    figures["ML API replicas serving the same version"] = json.dumps(versions)


def test_a_new_model_and_a_switch_back_reach_every_replica(figures):
    api = Api(swarm.nginx_url(nginx_nodes()[0]), STATE["token"])
    # Forced: the data has not changed since the first training, which would be skipped.
    response = api.post("/api/train/", json={"force": True})
    assert response.status_code == 202, response.text
    job = api.wait_for_job(response.json()["job_id"])
    assert job["status"] == "succeeded", job
    published = time.monotonic()
    new = job["model_version"]
    assert new != STATE["first_version"]
    wait_until(
        lambda: set(swarm.replica_versions().values()) == {new},
        timeout=60,
        interval=0.5,
        what="every replica serving the new version",
    )
    figures["new model on every replica after the job succeeded (upper bound)"] = (
        f"{time.monotonic() - published:.1f} s"
    )

    old = STATE["first_version"]
    response = api.post(f"/api/models/{old}/activate/")
    assert response.status_code == 200, response.text
    wait_until(
        lambda: set(swarm.replica_versions().values()) == {old},
        timeout=60,
        interval=0.5,
        what="every replica serving the version switched back to",
    )
    STATE["serving"] = old


def test_prometheus_scrapes_every_replica():
    def targets_up() -> dict[str, int] | None:
        response = Api(swarm.nginx_url(nginx_nodes()[0])).get(
            "/prometheus/api/v1/query",
            params={"query": "sum by (job) (up)"},
            auth=swarm.ops_auth(),
        )
        if response.status_code != 200:
            return None
        up = {
            r["metric"]["job"]: int(float(r["value"][1])) for r in response.json()["data"]["result"]
        }
        wanted = {"web": 2, "algorithm": 2, "algorithm_celery": 1, "flower": 1}
        return up if all(up.get(job) == n for job, n in wanted.items()) else None

    wait_until(targets_up, timeout=90, interval=3, what="Prometheus scraping every replica")


def test_flower_sees_every_worker():
    # Celery names a worker after its container's hostname (the short container id). A worker
    # replaced earlier (Swarm replaces an unhealthy task) may still be listed, offline: every
    # running one must be there.
    running = {f"celery@{t.container[:12]}" for t in running_tasks("algorithm_celery")}
    assert len(running) == 1, running

    def listed() -> set[str] | None:
        response = Api(swarm.nginx_url(nginx_nodes()[0])).get(
            "/flower/api/workers", params={"refresh": "true"}, auth=swarm.flower_auth()
        )
        names = set(response.json()) if response.status_code == 200 else set()
        return names if running <= names else None

    wait_until(listed, timeout=60, interval=3, what="Flower listing the running worker")


def _push_retagged(image: str, tag: str) -> str:
    """The same image under a new tag in the registry: an update the engine must roll out."""
    source = f"{image}:{swarm.RELEASE}"
    target = f"{swarm.HOST_REGISTRY}/{image}:{tag}"
    swarm.run("docker", "tag", source, target)
    swarm.run("docker", "push", "--quiet", target)
    return f"{swarm.NODE_REGISTRY}/{image}:{tag}"


def test_a_rolling_update_of_web_and_algorithm_under_load_fails_no_request(figures):
    images = {
        name: _push_retagged(f"textclf-{name}", f"{swarm.RELEASE}-rolled")
        for name in ("web", "algorithm")
    }
    urls = [swarm.nginx_url(n) for n in nginx_nodes()]
    with PredictionLoad(urls, STATE["token"]) as load:
        for name, image in images.items():
            started = time.monotonic()
            manager(
                "service",
                "update",
                "--detach=false",
                "--quiet",
                "--image",
                image,
                swarm.service(name),
                timeout=900,
            )
            figures[f"rolling update of {name} (2 replicas, start-first)"] = (
                f"{time.monotonic() - started:.0f} s"
            )
        time.sleep(5)
    report = load.report()
    figures["prediction load during the rolling updates"] = report.summary()
    for name, image in images.items():
        tasks = running_tasks(name)
        assert len(tasks) == 2
        assert _service_image(name) == image
    assert report.failures == 0, report.errors
    assert report.requests > 0


def _service_image(name: str) -> str:
    spec = json.loads(manager("service", "inspect", swarm.service(name)))[0]["Spec"]
    return spec["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]


def _update_state(name: str) -> str | None:
    service = json.loads(manager("service", "inspect", swarm.service(name)))[0]
    return (service.get("UpdateStatus") or {}).get("State")


def test_a_broken_image_is_rolled_back_automatically(figures):
    broken = f"{swarm.HOST_REGISTRY}/textclf-algorithm:{swarm.RELEASE}-broken"
    swarm.run(
        "docker",
        "build",
        "--quiet",
        "-t",
        broken,
        "-",
        # A release whose server cannot start: its gunicorn settings fail to load.
        input=(
            f"FROM textclf-algorithm:{swarm.RELEASE}\n"
            "USER root\n"
            "RUN echo 'raise SystemExit(\"a broken release\")' >> /app/gunicorn.conf.py\n"
            "USER app\n"
        ),
    )
    swarm.run("docker", "push", "--quiet", broken)
    before = _service_image("algorithm")
    urls = [swarm.nginx_url(n) for n in nginx_nodes()]
    started = time.monotonic()
    with PredictionLoad(urls, STATE["token"]) as load:
        manager(
            "service",
            "update",
            "--detach",
            "--image",
            f"{swarm.NODE_REGISTRY}/textclf-algorithm:{swarm.RELEASE}-broken",
            swarm.service("algorithm"),
        )
        wait_until(
            lambda: _update_state("algorithm") == "rollback_completed",
            timeout=600,
            interval=2,
            what="the automatic rollback",
        )
        figures["broken image: update to rollback_completed"] = (
            f"{time.monotonic() - started:.0f} s"
        )
        wait_until(lambda: len(running_tasks("algorithm")) == 2, timeout=120, what="2 replicas")
    report = load.report()
    figures["prediction load during the failed update and rollback"] = report.summary()
    assert _service_image("algorithm") == before
    assert report.failures == 0, report.errors


def test_losing_a_worker_node_reschedules_its_replicas_and_the_service_answers(figures):
    ingress = nginx_nodes()
    hosting = {
        swarm.node_number(t.node) for name in ("web", "algorithm") for t in running_tasks(name)
    }
    # A node other than the manager that runs replicas, while another node's nginx takes the load.
    victim = next(n for n in sorted(hosting - {1}, reverse=True) if set(ingress) - {n})
    urls = [swarm.nginx_url(n) for n in ingress if n != victim]
    lost_tasks = {
        name: [t.id for t in running_tasks(name) if swarm.node_number(t.node) == victim]
        for name in ("web", "algorithm", "nginx", "algorithm_celery", "flower")
    }
    with PredictionLoad(urls, STATE["token"]) as load:
        time.sleep(5)
        stopped = time.monotonic()
        swarm.run("docker", "kill", swarm.node_container(victim))
        wait_until(
            lambda: all(
                len([t for t in running_tasks(name) if t.node != f"node{victim}"]) == replicas
                for name, replicas in (("web", 2), ("algorithm", 2), ("algorithm_celery", 1))
            ),
            timeout=300,
            interval=2,
            what="web, algorithm and the worker back to full strength on the remaining nodes",
        )
        figures[f"node{victim} killed: web, algorithm, worker back to full strength"] = (
            f"{time.monotonic() - stopped:.0f} s"
        )
        time.sleep(10)
    report = load.report()
    figures[f"prediction load while node{victim} was lost"] = report.summary()
    if report.errors:
        figures["first errors while the node was lost"] = "; ".join(report.errors[:3])
    figures["tasks that were on the lost node"] = json.dumps(
        {name: len(ids) for name, ids in lost_tasks.items()}
    )
    answer = Api(urls[0], STATE["token"]).post("/api/predict/", json={"text": "an XML parser"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == STATE["serving"]
    assert report.requests > report.failures
