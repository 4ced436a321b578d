"""One log line shape for both services: the common fields, library records, the access line.

Each test configures logging itself: the handler binds to the stdout of the test's own capture
phase (pytest swaps sys.stdout between setup and call).
"""

import json
import logging
import logging.config
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
import structlog
from gunicorn.glogging import SafeAtoms

from textclf_ops import logs
from textclf_ops.request_id import request_id_bind


@pytest.fixture
def json_lines(capsys):
    """Call it once to configure JSON logging, then again to read the lines logged since."""
    structlog.contextvars.clear_contextvars()
    configured = []

    def configure_or_read():
        if not configured:
            logs.configure(service="svc", level="INFO", fmt="json")
            configured.append(True)
            return []
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    yield configure_or_read
    structlog.contextvars.clear_contextvars()


def test_our_events_are_json_lines_with_the_common_fields(json_lines):
    json_lines()
    structlog.get_logger("mlservice.training").info("Training job started", classifier="svc")
    (line,) = json_lines()
    assert line["event"] == "Training job started"
    assert line["classifier"] == "svc"
    assert (line["level"], line["service"], line["logger"]) == ("info", "svc", "mlservice.training")
    assert line["timestamp"].endswith("Z")
    assert line["request_id"] is None


def test_library_records_go_through_the_same_renderer(json_lines):
    json_lines()
    logging.getLogger("django.request").warning("Not Found: %s", "/api/x/")
    (line,) = json_lines()
    assert line["event"] == "Not Found: /api/x/"
    assert (line["level"], line["logger"], line["service"]) == ("warning", "django.request", "svc")
    assert "positional_args" not in line


def test_the_request_id_and_bound_context_reach_every_line(json_lines):
    json_lines()
    request_id_bind(incoming="rid-log")
    structlog.contextvars.bind_contextvars(job_id="j-1")
    structlog.get_logger("ours").info("ours %s", "formatted")
    logging.getLogger("psycopg").warning("theirs")
    lines = json_lines()
    assert [(line["request_id"], line["job_id"]) for line in lines] == [("rid-log", "j-1")] * 2
    assert lines[0]["event"] == "ours formatted"


def test_exceptions_are_one_line_with_the_traceback(json_lines):
    json_lines()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("x").exception("It failed")
    (line,) = json_lines()
    assert line["level"] == "error"
    assert "RuntimeError: boom" in line["exception"]


def test_non_ascii_text_stays_readable(json_lines):
    json_lines()
    logging.getLogger("x").warning("café")
    (line,) = json_lines()
    assert line["event"] == "café"


ACCESS_ATOMS = {
    "m": "POST",
    "U": "/predict",
    "q": "",
    "s": "201",
    "D": 17_534,
    "B": 88,
    "h": "10.0.0.5",
    "a": "python-requests/2",
    "{x-request-id}o": "rid-77",
}


def test_the_access_line_has_the_one_shape(json_lines):
    json_lines()
    logging.getLogger("gunicorn.access").info('%(h)s "%(m)s %(U)s" %(s)s', SafeAtoms(ACCESS_ATOMS))
    (line,) = json_lines()
    assert set(logs.ACCESS_FIELDS) <= line.keys()
    assert line["event"] == "POST /predict 201"
    assert (line["method"], line["path"], line["query"], line["status"]) == (
        "POST",
        "/predict",
        None,
        201,
    )
    # Milliseconds as a float (to the microsecond), the body's size in bytes.
    assert (line["duration_ms"], line["response_bytes"]) == (17.534, 88)
    assert (line["remote_addr"], line["user_agent"]) == ("10.0.0.5", "python-requests/2")
    assert line["request_id"] == "rid-77"
    assert "bytes" not in line


def test_the_access_fields_are_these():
    """Dashboards and log queries read these names: a rename is a deliberate change."""
    assert logs.ACCESS_FIELDS == (
        "event",
        "method",
        "path",
        "query",
        "status",
        "duration_ms",
        "response_bytes",
        "remote_addr",
        "user_agent",
        "request_id",
    )


@pytest.mark.parametrize("request_id", ["rid-78", None])
def test_gunicorn_logger_gathers_the_atoms_the_fields_come_from(json_lines, request_id):
    json_lines()
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("X-Request-ID", request_id))
    response = SimpleNamespace(status="400 BAD REQUEST", sent=61, headers=headers)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/predict",
        "QUERY_STRING": "page=2",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_USER_AGENT": "python-urllib3/2",
    }
    took = timedelta(milliseconds=17, microseconds=534)

    # atoms() reads no state of the logger; constructing one would reconfigure logging.
    atoms = logs.GunicornLogger.atoms(None, response, None, environ, took)
    # As gunicorn's access() hands them to the logger.
    logging.getLogger("gunicorn.access").info("%(m)s", SafeAtoms(atoms))

    (line,) = json_lines()
    assert (line["method"], line["path"], line["query"]) == ("POST", "/predict", "page=2")
    assert (line["status"], line["duration_ms"], line["response_bytes"]) == (400, 17.534, 61)
    assert (line["remote_addr"], line["user_agent"]) == ("10.0.0.5", "python-urllib3/2")
    assert line["request_id"] == request_id


def test_configuring_again_replaces_our_handler(json_lines):
    json_lines()
    logs.configure(service="worker", level="INFO", fmt="json")
    logging.getLogger("x").warning("once")
    lines = json_lines()
    assert len(lines) == 1
    assert lines[0]["service"] == "worker"


def test_configuring_again_writes_what_the_replaced_handler_held(capsys):
    logs.configure(service="svc", level="INFO", fmt="json", flush_seconds=3600)
    logging.getLogger("x").info("held back")
    assert capsys.readouterr().out == ""

    logs.configure(service="worker", level="INFO", fmt="json")

    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["event"] == "held back"


def test_console_format_is_readable(capsys):
    logs.configure(service="svc", level="INFO", fmt="console")
    structlog.get_logger("x").info("Hello", answer=42)
    out = capsys.readouterr().out
    assert "Hello" in out
    assert "answer=42" in out
    assert not out.startswith("{")


def test_logging_config_is_a_valid_dict_config():
    logging.config.dictConfig(
        logs.logging_config(service="svc", level="INFO", fmt="json", flush_seconds=1)
    )
    (handler,) = logging.getLogger("gunicorn.access").handlers
    assert isinstance(handler.formatter, logs.ServiceFormatter)
    assert logging.getLogger("gunicorn.access").propagate is False


def test_configure_from_dict_sends_structlog_stdlib_and_warnings_as_json_lines():
    """In a fresh process, as Django applies settings.LOGGING in a gunicorn worker."""
    script = (
        "import logging, warnings, structlog;"
        "from textclf_ops import logs;"
        "from textclf_ops.request_id import request_id_bind;"
        "logs.configure_from_dict(logs.logging_config(service='web', level='INFO', fmt='json'));"
        "request_id_bind(incoming='rid-structlog');"
        "structlog.get_logger('textclf.test').info('something_happened', rows=3);"
        "logging.getLogger('django.request').error('stdlib %s', 'line');"
        "warnings.warn('careful')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["event"], first["rows"], first["level"]) == ("something_happened", 3, "info")
    assert (second["event"], second["logger"]) == ("stdlib line", "django.request")
    assert third["logger"] == "py.warnings"
    assert first["request_id"] == second["request_id"] == "rid-structlog"
    assert {line["service"] for line in (first, second, third)} == {"web"}
