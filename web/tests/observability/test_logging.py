import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import structlog
from gunicorn.glogging import SafeAtoms

from observability.logging import GunicornLogger, logging_config
from observability.request_id import request_id_bind

WEB_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING and gunicorn's logconfig_dict both use."""
    options = dict(logging_config(level="INFO", log_format="json")["formatters"]["structured"])
    factory = options.pop("()")
    return factory(**options)


@pytest.fixture(autouse=True)
def clean_context():
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


def render(formatter: logging.Formatter, name: str, message: str, args) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)
    return formatter.format(record)


def test_a_stdlib_record_becomes_one_json_object_with_the_request_id(json_formatter):
    request_id_bind(incoming="rid-log")

    line = json.loads(render(json_formatter, "django.request", "Not Found: %s", ("/api/x/",)))

    assert line["event"] == "Not Found: /api/x/"
    assert line["level"] == "warning"
    assert line["logger"] == "django.request"
    assert line["service"] == "web"
    assert line["request_id"] == "rid-log"
    assert line["timestamp"].endswith("Z")


def test_gunicorn_access_atoms_become_fields(json_formatter):
    atoms = {
        "m": "POST",
        "U": "/api/data/",
        "q": "",
        "s": "201",
        "B": 123,
        "M": 17,
        "h": "172.31.250.5",
        "a": "curl/8",
        "{x-request-id}o": "rid-access",
    }

    line = json.loads(render(json_formatter, "gunicorn.access", "%(h)s %(m)s", (atoms,)))

    assert line["event"] == "POST /api/data/ 201"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/data/", 201)
    assert (line["duration_ms"], line["bytes"], line["query"]) == (17, 123, None)
    assert line["request_id"] == "rid-access"
    assert "positional_args" not in line


@pytest.mark.parametrize("request_id", ["rid-access", None])
def test_gunicorn_logger_gathers_the_atoms_the_fields_come_from(json_formatter, request_id):
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("X-Request-ID", request_id))
    response = SimpleNamespace(status="201 Created", sent=123, headers=headers)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/data/",
        "QUERY_STRING": "page=2",
        "REMOTE_ADDR": "172.31.250.5",
        "HTTP_USER_AGENT": "curl/8",
    }
    took = timedelta(milliseconds=17, microseconds=900)

    # atoms() reads no state of the logger; constructing one would reconfigure logging.
    atoms = GunicornLogger.atoms(None, response, None, environ, took)
    # As gunicorn's access() hands them to the logger.
    line = json.loads(render(json_formatter, "gunicorn.access", "%(m)s", (SafeAtoms(atoms),)))

    assert line["event"] == "POST /api/data/ 201"
    assert (line["method"], line["path"], line["query"]) == ("POST", "/api/data/", "page=2")
    assert (line["status"], line["duration_ms"], line["bytes"]) == (201, 17, 123)
    assert (line["remote_addr"], line["user_agent"]) == ("172.31.250.5", "curl/8")
    assert line.get("request_id") == request_id


def test_console_format_is_readable_text():
    options = dict(logging_config(level="INFO", log_format="console")["formatters"]["structured"])
    formatter = options.pop("()")(**options)

    text = render(formatter, "textclf", "hello %s", ("world",))

    assert "hello world" in text
    assert not text.startswith("{")


def test_django_and_structlog_loggers_print_json_lines():
    """In a fresh process, as a gunicorn worker would: settings.LOGGING applied by Django."""
    script = (
        "import django, logging, structlog; django.setup();"
        "from observability.request_id import request_id_bind;"
        "request_id_bind(incoming='rid-structlog');"
        "structlog.get_logger('textclf.test').info('something_happened', rows=3);"
        "logging.getLogger('django.request').error('stdlib %s', 'line')"
    )
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": ""}

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=WEB_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )

    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["event"], first["rows"], first["level"]) == ("something_happened", 3, "info")
    assert (second["event"], second["logger"], second["level"]) == (
        "stdlib line",
        "django.request",
        "error",
    )
    assert first["request_id"] == second["request_id"] == "rid-structlog"
    assert first["service"] == second["service"] == "web"
