"""Turn `docker compose config` output (docker-compose.yml + docker-stack.yml) into a stack file.

Reads YAML on stdin, writes YAML on stdout. Compose has already merged the files and resolved
every variable; what remains are the few things the engine's stack loader (compose file format 3)
refuses or ignores: the project `name`, a missing `version`, compose-only services and service
keys, and sizes written as strings. Anything else passes through unchanged.
"""

from __future__ import annotations

import sys

import yaml

# Service keys that exist for `docker compose` only (Swarm builds nothing, starts in no order and
# restarts through deploy.restart_policy).
COMPOSE_ONLY_KEYS = ("build", "depends_on", "restart", "container_name", "pull_policy")
# Services for one host only: edge_port holds nginx's port across nginx's own swaps, which
# Swarm's routing mesh does for its start-first updates.
COMPOSE_ONLY_SERVICES = ("edge_port",)


def render(config: dict) -> dict:
    config.pop("name", None)
    # Extension fields only carried YAML anchors, resolved by now.
    stack = {
        "version": "3.9",
        **{k: v for k, v in config.items() if not k.startswith("x-")},
    }
    for name in COMPOSE_ONLY_SERVICES:
        stack.get("services", {}).pop(name, None)
    for service in stack.get("services", {}).values():
        for key in COMPOSE_ONLY_KEYS:
            service.pop(key, None)
        # Compose writes byte sizes as strings; format 3 wants integers.
        for volume in service.get("volumes", []):
            tmpfs = volume.get("tmpfs") if isinstance(volume, dict) else None
            if tmpfs and "size" in tmpfs:
                tmpfs["size"] = int(tmpfs["size"])
        for port in service.get("ports", []):
            if isinstance(port, dict) and "published" in port:
                port["published"] = int(port["published"])
    return stack


def main() -> None:
    config = yaml.safe_load(sys.stdin)
    yaml.safe_dump(
        render(config), sys.stdout, sort_keys=False, default_flow_style=False
    )


if __name__ == "__main__":
    main()
