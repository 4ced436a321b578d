"""Code shared by the web service and the ML service: logs, metrics, request ids, gunicorn,
health checks, error reporting, settings from the environment, the throttles' counters and the
test of a plain prediction call.

Imports nothing heavy at package level: prometheus-client must not be imported before the
multiprocess directory is set (see multiproc).
"""
