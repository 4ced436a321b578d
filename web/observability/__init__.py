"""Metrics, structured logs, request ids and error reporting for the web service."""

# The `service` label of every metric and the `service` field of every log line.
SERVICE = "web"
