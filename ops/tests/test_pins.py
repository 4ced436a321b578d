"""The images install this package with --no-deps on top of each service's pinned set: both sets
must hold its dependencies at the versions its own tests ran with."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.split("[", 1)[0].strip().lower().replace("_", "-")] = version.strip()
    return found


@pytest.mark.parametrize("service", ["web", "algorithm"])
def test_each_service_pins_the_packages_dependencies_at_the_same_versions(service):
    ours = pins(REPO_ROOT / "ops" / "requirements.txt")
    theirs = pins(REPO_ROOT / service / "requirements.txt")

    assert ours
    assert {name: theirs.get(name) for name in ours} == ours
