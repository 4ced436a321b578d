"""Operational code shared by the web service and the ML service: logs, metrics, request ids,
gunicorn, health checks, error reporting and settings from the environment.

Imports nothing heavy at package level: prometheus-client must not be imported before the
multiprocess directory is set (see multiproc).
"""
