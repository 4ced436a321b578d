"""gunicorn settings for the web service; GUNICORN_*, LOG_* and FORWARDED_ALLOW_IPS come from
the environment.

Run: gunicorn -c gunicorn.conf.py config.wsgi:application
"""

import gc
import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

from observability import build_info
from observability.logging import LOG_FORMATS, logging_config


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


bind = "0.0.0.0:8000"
# Sized for 2 cores: 2 processes x 4 threads; threads cover the time a request waits on the
# database or the ML service.
workers = _env_int("GUNICORN_WORKERS", 2)
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)
# A worker silent for this long is killed and replaced: above the ML client's read timeout
# (30 s) so a slow batch prediction is answered, not cut off.
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (docker stop), requests in flight get this long to finish.
graceful_timeout = 30
# Longer than nginx's upstream keepalive (60 s), so nginx, not gunicorn, closes idle
# connections and never reuses one gunicorn has just dropped.
keepalive = 75
# Recycle workers now and then (bounds slow leaks); the jitter keeps them from all
# restarting at once. Rarely: a fresh worker costs seconds of CPU on two cores, and at a few
# hundred requests/s a limit of 1,000 recycled each worker every few seconds (BENCHMARKS.md).
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# The heartbeat file on a tmpfs: a disk-backed /tmp can stall workers under I/O load, and the
# root filesystem is read-only in production.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs by design, not a temp-file name)
# Trust X-Forwarded-* only from these addresses (production: the nginx network's subnet).
forwarded_allow_ips = _env_str("FORWARDED_ALLOW_IPS", "*")
# The runtime control socket would be created under $HOME, which is read-only for `app`.
control_socket_disable = True

# Error and access logs as JSON lines on stdout, through the same renderer as Django's.
loglevel = _env_str("LOG_LEVEL", "INFO").lower()
accesslog = "-"
errorlog = "-"
# Access lines become JSON fields made from the atoms (observability.logging), which also
# rebuilds the event text: the format is kept short because it is still formatted first.
logger_class = "observability.logging.GunicornLogger"
access_log_format = "%(m)s %(U)s %(s)s"
_log_format = _env_str("LOG_FORMAT", "json").lower()
logconfig_dict = logging_config(
    level=loglevel.upper(),
    log_format=_log_format if _log_format in LOG_FORMATS else "json",
    flush_seconds=float(_env_str("LOG_FLUSH_SECONDS", "1")),
)


def post_worker_init(worker) -> None:
    """Import the URLconf and its views now, then exempt everything loaded so far from the
    garbage collector's full passes.

    Those objects live as long as the worker; a full pass over them (~100k) took 23 ms,
    holding the GIL and so stalling every request of the worker (BENCHMARKS.md).
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.freeze()


def on_starting(server) -> None:
    """Empty the Prometheus multiprocess directory before the first worker starts.

    Files from a previous run would otherwise be summed into this run's counters. Only its
    contents go: the directory itself may be a tmpfs mount point.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server, worker) -> None:
    """A worker is gone (recycled, crashed, timed out): drop its live-gauge files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def when_ready(server) -> None:
    server.log.info("Serving release %(version)s (revision %(revision)s)", build_info.release())
