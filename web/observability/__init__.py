"""The web service's side of the shared observability code (textclf_ops): its middleware and
its route templates."""

# The `service` label of every metric and the `service` field of every log line.
SERVICE = "web"
