"""Run by test_sentry.py in a fresh process (Sentry is process-global): the WSGI application
(as gunicorn calls it) with SENTRY_DSN from the environment, one request to a view that
raises, then a flush. With SENTRY_PROBE_TEXT set, the request is a POST of
{"text": SENTRY_PROBE_TEXT} with `?search=` the same text."""

import io
import json
import os
from wsgiref.util import setup_testing_defaults

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import sentry_sdk
from django.test import override_settings

from config.wsgi import application

environ = {
    "PATH_INFO": "/api/boom/",
    "HTTP_HOST": "testserver",
    "HTTP_AUTHORIZATION": "Token secret-token-value",
    "HTTP_COOKIE": "sessionid=secret-cookie-value",
    "HTTP_X_REQUEST_ID": "sentry-probe-request",
    "wsgi.input": io.BytesIO(),
}
if text := os.environ.get("SENTRY_PROBE_TEXT"):
    body = json.dumps({"text": text}).encode()
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "QUERY_STRING": f"search={text}",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
    )
setup_testing_defaults(environ)
statuses = []
with override_settings(ROOT_URLCONF="tests.observability.raising_urls"):
    b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
print(statuses[0])
sentry_sdk.flush(timeout=10)
