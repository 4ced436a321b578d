"""Gunicorn settings for the ML API: `gunicorn -c gunicorn.conf.py "mlservice:create_app()"`.

Sized for the 2-core host: 2 processes x 4 threads by default (predict is short and mostly
numpy, which releases the GIL). Every knob has a GUNICORN_* variable; the rest is fixed here.
gunicorn's own logs are JSON lines like the app's, and the hooks keep the Prometheus multiprocess
directory right: wiped before the first worker forks, dead workers' live gauges dropped.
"""

import gc as _gc
import os

from mlservice.config import Settings as _Settings
from mlservice.observability import build_info as _build_info
from mlservice.observability import logs as _logs
from mlservice.observability import multiproc as _multiproc

# Underscored: gunicorn treats this module's public names as settings.
_settings = _Settings.from_env()


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "").strip() or default)


bind = "0.0.0.0:8000"
worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", 2)
threads = _env_int("GUNICORN_THREADS", 4)
# A request may run this long (a 1,000-text batch predict takes well under a second; listing
# jobs waits at most DATABASE_CONNECT_TIMEOUT for the database) before its worker is recycled.
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (`docker stop`), in-flight requests get this long to finish.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's upstream keepalive, so nginx closes idle connections first.
keepalive = 75
# Recycle workers now and then; the jitter keeps them from restarting together. Rarely: a
# fresh worker re-imports the app and reloads the model (seconds of CPU on two cores), and at a
# few hundred requests/s a limit of 1,000 recycled each worker every few seconds (BENCHMARKS.md).
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# Heartbeat files on RAM: the root filesystem is read-only in production and /tmp is small.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - not temp data
# X-Forwarded-* are trusted from these addresses only (prod: the edge network's subnet).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
errorlog = "-"
loglevel = _settings.log_level.lower()
# Access and error lines go through the service's JSON formatter (mlservice.observability.logs),
# which makes the access line's fields from the atoms and replaces its message: the format is
# kept short because it is still formatted first.
logger_class = "mlservice.observability.logs.GunicornLogger"
access_log_format = "%(m)s %(U)s %(s)s"
logconfig_dict = _logs.gunicorn_logconfig(
    service="algorithm",
    level=_settings.log_level,
    fmt=_settings.log_format,
    flush_seconds=_settings.log_flush_seconds,
)
# No runtime control socket: it would go to $HOME (/app), read-only for the app user.
control_socket_disable = True


def post_worker_init(worker):
    """Load the current model before the first request instead of during it, then exempt
    everything loaded so far from the garbage collector's full passes.

    Those objects (the libraries, the app, the model: ~140k) live as long as the worker, or
    until a newer model replaces the current one, when reference counting frees it; a full pass
    over them took 30-44 ms, holding the GIL and so stalling every request of the worker
    (BENCHMARKS.md).
    """
    try:
        worker.wsgi.extensions["model_store"].current()
    except Exception:  # never keep a worker from booting: the first request retries the load
        worker.log.exception("Model warm-up failed")
    _gc.freeze()


def on_starting(server):
    """Master, before forking: start from an empty metrics directory."""
    _multiproc.reset(_settings.prometheus_multiproc_dir)


def child_exit(server, worker):
    """Master: a worker died or was recycled; its live gauges must stop counting."""
    _multiproc.mark_dead(worker.pid, _settings.prometheus_multiproc_dir)


def when_ready(server):
    """Master: say which release serves (also exported as `build_info`)."""
    server.log.info("Serving release %(version)s (revision %(revision)s)", _build_info.release())
