"""Programs a suite runs inside a service's container (`python -c`), shared by the suites."""

# A raw PING to Redis, as anything on the backend network could send it, then the same after AUTH
# with the password of the broker URL the ML service's settings resolve (from CELERY_BROKER_URL,
# or the secret file CELERY_BROKER_URL_FILE names): prints each reply's repr on its own line.
# Run it in the ML API's or the worker's container.
REDIS_PASSWORD_PROBE = """
import socket
from urllib.parse import urlsplit
from mlservice.config import Settings
broker_url = Settings.from_env().celery_broker_url.get_secret_value()
password = urlsplit(broker_url).password or ""
for command in (b"PING\\r\\n", b"AUTH " + password.encode() + b"\\r\\nPING\\r\\n"):
    with socket.create_connection(("redis", 6379), timeout=5) as sock:
        sock.sendall(command)
        reply = b""
        while reply.count(b"\\r\\n") < command.count(b"\\r\\n"):
            chunk = sock.recv(200)
            if not chunk:
                break
            reply += chunk
        print(repr(reply))
"""
