"""make secrets (scripts/secrets): strong values for blank secrets, nothing else touched."""

import re
import stat
import subprocess

from harness import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "secrets"
EXAMPLE = REPO_ROOT / ".env.example"
# What the prod overlay requires (`${NAME:?...}`), the base file's secrets and Grafana's.
REQUIRED = set(re.findall(r"\$\{([A-Z_]+):\?", (REPO_ROOT / "docker-compose.prod.yml").read_text()))


def run(path) -> dict[str, str]:
    subprocess.run([SCRIPT, str(path)], check=True, capture_output=True)
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name: value for name, value in pairs if not name.startswith("#")}


def test_the_example_leaves_every_production_secret_blank():
    example = dict(
        line.split("=", 1)
        for line in EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    secrets = REQUIRED - {"DJANGO_ALLOWED_HOSTS"}

    assert secrets <= example.keys()
    assert {name: example[name] for name in secrets} == dict.fromkeys(secrets, "")


def test_a_new_env_gets_every_secret_strong_and_private(tmp_path):
    env = run(tmp_path / ".env")

    for name in REQUIRED - {"DJANGO_ALLOWED_HOSTS"}:
        assert len(env[name]) >= 32, name
        assert re.fullmatch(r"[A-Za-z0-9_-]+", env[name]), name
    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    assert len(set(env.values())) > 10, "every secret is drawn anew"
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    # Everything else is the example's.
    assert env["POSTGRES_USER"] == "textclf"


def test_existing_values_are_kept_and_blank_ones_filled(tmp_path):
    path = tmp_path / ".env"
    path.write_text("POSTGRES_PASSWORD=chosen-by-the-operator\nREDIS_PASSWORD=\n# OPS_PASSWORD=x\n")
    path.chmod(0o644)

    first = run(path)
    second = run(path)

    assert first["POSTGRES_PASSWORD"] == "chosen-by-the-operator"
    assert len(first["REDIS_PASSWORD"]) >= 32
    assert len(first["OPS_PASSWORD"]) >= 32
    assert first == second
    assert path.read_text().count("REDIS_PASSWORD=") == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
