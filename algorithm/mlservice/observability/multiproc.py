"""The prometheus-client multiprocess directory: prepared, wiped and tidied.

prometheus-client picks multiprocess mode when it is first imported, from the environment, so
`prepare` runs before anything imports `mlservice.observability.metrics` (create_app, gunicorn's
master). The `celery` command imports it even earlier (Flower's CLI plugin), so the image sets the
variable. Its contents belong to one run of one container: gunicorn's master wipes it before
forking workers, the Celery worker when it starts; a dead process's "live" gauges are removed so
they stop counting (gunicorn's child_exit, Celery's worker_process_shutdown). Counters of dead
processes stay: totals must never go backwards.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"


def prepare(directory: Path) -> None:
    """Create the directory and point prometheus-client at it (unless already pointed)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(ENV_VAR, str(directory))


def is_active() -> bool:
    """Whether prometheus-client really runs in multiprocess mode in this process."""
    from prometheus_client import values

    return bool(getattr(values.ValueClass, "_multiprocess", False))


def ensure_configured_directory() -> None:
    """Create the directory the environment names, if it names one (see `metrics`)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)


def reset(directory: Path, *, keep_pid: int | None = None) -> None:
    """Delete earlier runs' sample files; `keep_pid`'s own files survive."""
    prepare(directory)
    for path in directory.glob("*.db"):
        if keep_pid is not None and path.stem.endswith(f"_{keep_pid}"):
            continue
        path.unlink(missing_ok=True)


def mark_dead(pid: int, directory: Path) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(directory))
