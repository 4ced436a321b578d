"""Logs, Prometheus metrics, Sentry and the container healthcheck, for the API and the worker."""
