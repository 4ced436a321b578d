"""The gunicorn settings and hooks both services run with; each service's gunicorn.conf.py adds
only its own warm-up.

    globals().update(gunicorn_conf.settings(service="web"))
    on_starting, child_exit = gunicorn_conf.on_starting, gunicorn_conf.child_exit
    post_worker_init = gunicorn_conf.post_worker_init_with(warm_up)

Sized for the 2-core host: 2 processes x 4 threads by default. Every knob has a GUNICORN_*
variable (GunicornSettings; a bad value stops the master naming it); the rest is fixed here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from typing import Any

from textclf_ops import build_info, logs, multiproc
from textclf_ops.settings import GunicornSettings


def settings(*, service: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """gunicorn's settings, by gunicorn's names (from `environ`, default os.environ)."""
    conf = GunicornSettings.from_env(environ)
    return {
        "bind": "0.0.0.0:8000",
        "worker_class": "gthread",
        "workers": conf.gunicorn_workers,
        # Threads cover the time a request waits on the database, the broker or the ML service.
        "threads": conf.gunicorn_threads,
        # A worker silent for this long is killed and replaced: above web's ML client read
        # timeout (30 s), so a slow batch prediction is answered, not cut off.
        "timeout": conf.gunicorn_timeout,
        # On SIGTERM (docker stop), requests in flight get this long to finish.
        "graceful_timeout": conf.gunicorn_graceful_timeout,
        # Longer than nginx's upstream keepalive (60 s), so nginx, not gunicorn, closes idle
        # connections and never reuses one gunicorn has just dropped.
        "keepalive": 75,
        # Recycle workers now and then (bounds slow leaks); the jitter keeps them from all
        # restarting at once. Rarely: a fresh worker costs seconds of CPU on two cores
        # (BENCHMARKS.md).
        "max_requests": conf.gunicorn_max_requests,
        "max_requests_jitter": conf.gunicorn_max_requests_jitter,
        # The heartbeat file on a tmpfs: a disk-backed /tmp can stall workers under I/O load,
        # and the root filesystem is read-only in production.
        "worker_tmp_dir": "/dev/shm",  # noqa: S108 (a tmpfs by design, not a temp-file name)
        # Trust X-Forwarded-* only from these addresses (production: the edge network's subnet).
        "forwarded_allow_ips": conf.forwarded_allow_ips,
        # The runtime control socket would be created under $HOME, read-only for `app`.
        "control_socket_disable": True,
        # Error and access logs as JSON lines on stdout, through the app's own formatter.
        "loglevel": conf.log_level.lower(),
        "accesslog": "-",
        "errorlog": "-",
        # Access lines become fields made from the atoms (logs.GunicornLogger), which also
        # rebuild the event text: the format is kept short because it is still formatted first.
        "logger_class": "textclf_ops.logs.GunicornLogger",
        "access_log_format": "%(m)s %(U)s %(s)s",
        "logconfig_dict": logs.logging_config(
            service=service,
            level=conf.log_level,
            fmt=conf.log_format,
            flush_seconds=conf.log_flush_seconds,
        ),
    }


def on_starting(server) -> None:
    """Master, before forking: start from an empty Prometheus multiprocess directory, so that
    files from a previous run are not summed into this run's counters."""
    if directory := multiproc.configured_directory():
        multiproc.reset(directory)


def child_exit(server, worker) -> None:
    """Master: a worker died or was recycled (or timed out); its live gauges stop counting."""
    if directory := multiproc.configured_directory():
        multiproc.mark_dead(worker.pid, directory)


def post_worker_init_with(warm_up: Callable[[Any], None]) -> Callable[[Any], None]:
    """The post_worker_init hook: `warm_up(worker)` (load now what the first request would),
    then exempt everything loaded so far from the garbage collector's full passes.

    Those objects live as long as the worker; a full pass over them (100k or more) took tens of
    milliseconds, holding the GIL and so stalling every request of the worker (BENCHMARKS.md).
    A failed warm-up never keeps a worker from booting: the first request tries again.
    """

    def post_worker_init(worker) -> None:
        try:
            warm_up(worker)
        except Exception:
            worker.log.exception("Warm-up failed")
        gc.freeze()

    return post_worker_init


def when_ready(server) -> None:
    """Master: say which release serves (also exported as `build_info`)."""
    server.log.info("Serving release %(version)s (revision %(revision)s)", build_info.release())
