"""The Celery worker: the app and its configuration, the thin tasks, signal receivers, the
/metrics exporter and the heartbeat bootstep. `main` is the `celery -A` entry point."""
