"""Two stages of our own for the deploy tests: env files, state and releases in a scratch folder.

Kept apart from tests/e2e's stack control on purpose: everything here goes through
scripts/deploy, as an operator would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = str(REPO_ROOT / "scripts" / "deploy")
PREFIX = os.environ.get("IMAGE_TAG", "deploytest")
ADMIN_USERNAME = "deploy-admin"


@dataclass(frozen=True)
class StageConfig:
    name: str
    project: str
    http_port: int
    https_port: int
    subnet: str


STAGES = (
    StageConfig(
        "staging",
        os.environ.get("DEPLOY_STAGING_PROJECT", f"textclf-{PREFIX}-staging"),
        int(os.environ.get("DEPLOY_STAGING_HTTP_PORT", "18500")),
        int(os.environ.get("DEPLOY_STAGING_HTTPS_PORT", "18543")),
        os.environ.get("DEPLOY_STAGING_SUBNET", "10.25.0.0/24"),
    ),
    StageConfig(
        "production",
        os.environ.get("DEPLOY_PRODUCTION_PROJECT", f"textclf-{PREFIX}-production"),
        int(os.environ.get("DEPLOY_PRODUCTION_HTTP_PORT", "18510")),
        int(os.environ.get("DEPLOY_PRODUCTION_HTTPS_PORT", "18553")),
        os.environ.get("DEPLOY_PRODUCTION_SUBNET", "10.25.1.0/24"),
    ),
)

# `make test` runs the end-to-end stacks too (projects textclf-e2e-*, ports 18080/18081 and
# 18180/18181): these stages must never take their names or ports, whatever the overrides.
E2E_PORTS = {18080, 18081, 18180, 18181}
for _stage in STAGES:
    _ports = {_stage.http_port, _stage.https_port}
    if _stage.project.startswith("textclf-e2e-") or _ports & E2E_PORTS:
        raise RuntimeError(f"deploy stage {_stage} collides with the end-to-end stacks")


class Deployer:
    """scripts/deploy with its stages, records and releases in `folder`."""

    def __init__(self, folder: Path, *, health_timeout: int = 90) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "DEPLOY_STAGES_DIR": str(folder / "stages"),
            "DEPLOY_STATE_DIR": str(folder / "state"),
            "DEPLOY_RELEASES_DIR": str(folder / "releases"),
            "SMOKE_PYTEST": str(REPO_ROOT / ".venv" / "e2e" / "bin" / "pytest"),
        }
        (folder / "stages").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(REPO_ROOT / "scripts" / "make-cert"), str(folder / "certs")], check=True
        )
        self.admin_password = secrets.token_urlsafe(24)
        self.ops_password = secrets.token_urlsafe(32)
        for stage in STAGES:
            self.write_env(stage, health_timeout)

    def write_env(self, stage: StageConfig, health_timeout: int) -> None:
        values = {
            "DEPLOY_PROJECT": stage.project,
            "DEPLOY_COMPOSE_FILES": "docker-compose.yml:docker-compose.prod.yml",
            "DEPLOY_URL": f"https://127.0.0.1:{stage.https_port}",
            "DEPLOY_CA_FILE": str(self.folder / "certs" / "tls.crt"),
            "DEPLOY_HEALTH_TIMEOUT": str(health_timeout),
            "DEPLOY_SKIP_SERVICES": "grafana",  # no Grafana image on machines without a registry
            "DEPLOY_SMOKE_TRAIN": "1",
            "HTTP_PORT": str(stage.http_port),
            "HTTPS_PORT": str(stage.https_port),
            "EDGE_SUBNET": stage.subnet,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TLS_CERT_FILE": str(self.folder / "certs" / "tls.crt"),
            "TLS_KEY_FILE": str(self.folder / "certs" / "tls.key"),
            # The load below comes from one address; nginx's per-client limit is not under test.
            "NGINX_API_RATE": "1000r/s",
            # The slower classifier: a training on the sample lasts long enough (about a minute
            # on two cores) to still run while the worker is replaced.
            "CLASSIFIER": "svc",
            "NGINX_ML_RATE": "1000r/s",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
            "WEB_DATABASE_PASSWORD": secrets.token_urlsafe(32),
            "ML_DATABASE_PASSWORD": secrets.token_urlsafe(32),
            "REDIS_PASSWORD": secrets.token_urlsafe(32),
            "ML_SERVICE_TOKEN": secrets.token_urlsafe(32),
            "MODEL_SIGNING_KEY": secrets.token_urlsafe(32),
            "ADMIN_USERNAME": ADMIN_USERNAME,
            "ADMIN_PASSWORD": self.admin_password,
            "OPS_USER": "ops",
            "OPS_PASSWORD": self.ops_password,
            "FLOWER_USER": "ops",
            "FLOWER_PASSWORD": self.ops_password,
            "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(32),
        }
        text = "".join(f"{key}={value}\n" for key, value in values.items())
        (self.folder / "stages" / f"{stage.name}.env").write_text(text)

    @property
    def ca_file(self) -> str:
        return str(self.folder / "certs" / "tls.crt")

    def __call__(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        """scripts/deploy ARGS; its output is echoed (pytest -s shows it) and returned."""
        result = subprocess.run(
            [DEPLOY, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        print(f"$ scripts/deploy {' '.join(args)}\n{result.stdout}{result.stderr}", flush=True)
        return result

    def records(self, stage: str) -> list[dict]:
        path = self.folder / "state" / f"{stage}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def manifest(self, release: str) -> dict:
        return json.loads((self.folder / "releases" / f"{release}.json").read_text())

    def down(self) -> None:
        for stage in STAGES:
            subprocess.run(
                ["docker", "compose", "-p", stage.project, "down", "-v", "--remove-orphans"],
                capture_output=True,
                check=False,
                timeout=300,
            )


def stream(deployer: Deployer, *args: str, on_line=None) -> tuple[int, list[tuple[float, str]]]:
    """scripts/deploy ARGS, its lines handed to `on_line(line)` as they come, with wall times."""
    process = subprocess.Popen(
        [DEPLOY, *args],
        env=deployer.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    print(f"$ scripts/deploy {' '.join(args)}", flush=True)
    for line in process.stdout:
        lines.append((time.time(), line.rstrip("\n")))
        print(line, end="", flush=True)
        if on_line:
            on_line(line)
    return process.wait(timeout=1800), lines
