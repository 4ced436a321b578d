"""Gunicorn settings for the ML API: `gunicorn -c gunicorn.conf.py "mlservice:create_app()"`."""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 75  # longer than nginx's upstream keepalive, so nginx closes idle connections first
# Recycle workers now and then (jitter keeps them from restarting together).
max_requests = 1000
max_requests_jitter = 100
worker_tmp_dir = "/dev/shm"  # noqa: S108 - RAM-backed heartbeat files, not temp data
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# No runtime control via gunicornc: the socket would go to $HOME (/app, read-only for the app user).
control_socket_disable = True


def post_worker_init(worker):
    """Load the current model before the first request instead of during it."""
    try:
        worker.wsgi.extensions["model_store"].current()
    except Exception:  # never keep a worker from booting: the first request retries the load
        worker.log.exception("Model warm-up failed")
