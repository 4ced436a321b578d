"""gunicorn settings for the web service; GUNICORN_* and LOG_LEVEL come from the environment.

Run: gunicorn -c gunicorn.conf.py config.wsgi:application
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = "0.0.0.0:8000"
workers = _env_int("GUNICORN_WORKERS", 2)
# gthread: several requests per worker while one waits on the ML service or the database.
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Longer than nginx's upstream keepalive (60 s), so nginx, not gunicorn, closes idle
# connections and never reuses one gunicorn has just dropped.
keepalive = 75
max_requests = 1000
max_requests_jitter = 100
# The heartbeat file on a tmpfs: a disk-backed /tmp can stall workers under I/O load.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs by design, not a temp-file name)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").strip().lower() or "info"
# The runtime control socket would be created under $HOME, which is read-only for `app`.
control_socket_disable = True
