"""Each test configures logging itself: the handler binds to the stdout of the test's own
capture phase (pytest swaps sys.stdout between setup and call)."""

import json
import logging
import logging.config
from datetime import timedelta
from types import SimpleNamespace

import pytest
import structlog

from mlservice.observability import logs


@pytest.fixture
def json_lines(capsys):
    """Call it once to configure JSON logging, then again to read the lines logged since."""
    structlog.contextvars.clear_contextvars()
    configured = []

    def configure_or_read():
        if not configured:
            logs.configure(service="algorithm", level="INFO", fmt="json")
            configured.append(True)
            return []
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    yield configure_or_read
    structlog.contextvars.clear_contextvars()


def test_our_events_are_json_lines_with_the_common_fields(json_lines):
    json_lines()
    structlog.get_logger("mlservice.training.run").info("Training job started", classifier="svc")
    (line,) = json_lines()
    assert line["event"] == "Training job started"
    assert line["classifier"] == "svc"
    assert line["level"] == "info"
    assert line["service"] == "algorithm"
    assert line["logger"] == "mlservice.training.run"
    assert line["timestamp"].endswith("Z")
    assert line["request_id"] is None


def test_library_records_go_through_the_same_renderer(json_lines):
    json_lines()
    logging.getLogger("celery.worker").warning("Connection lost: %s", "redis")
    (line,) = json_lines()
    assert line["event"] == "Connection lost: redis"
    assert line["level"] == "warning"
    assert line["logger"] == "celery.worker"
    assert line["service"] == "algorithm"
    assert "positional_args" not in line


def test_bound_context_reaches_every_line(json_lines):
    json_lines()
    structlog.contextvars.bind_contextvars(request_id="abc123", job_id="j-1")
    structlog.get_logger("mlservice.x").info("ours")
    logging.getLogger("psycopg").warning("theirs")
    assert [(line["request_id"], line["job_id"]) for line in json_lines()] == [
        ("abc123", "j-1"),
        ("abc123", "j-1"),
    ]


def test_exceptions_are_one_line_with_the_traceback(json_lines):
    json_lines()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("mlservice.x").exception("It failed")
    (line,) = json_lines()
    assert line["level"] == "error"
    assert "RuntimeError: boom" in line["exception"]


def test_gunicorn_access_records_become_fields(json_lines):
    from gunicorn.glogging import SafeAtoms

    json_lines()
    atoms = SafeAtoms(
        {
            "m": "POST",
            "U": "/predict",
            "q": "",
            "s": "200",
            "D": 1534,
            "B": 88,
            "h": "10.0.0.5",
            "a": "python-requests/2",
            "{x-request-id}o": "rid-77",
        }
    )
    logging.getLogger("gunicorn.access").info('%(h)s "%(m)s %(U)s" %(s)s', atoms)
    (line,) = json_lines()
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/predict", 200)
    assert line["duration_ms"] == 1.534
    assert line["request_id"] == "rid-77"
    assert line["service"] == "algorithm"


@pytest.mark.parametrize("request_id", ["rid-78", None])
def test_gunicorn_logger_gathers_the_atoms_the_fields_come_from(json_lines, request_id):
    from gunicorn.glogging import SafeAtoms

    json_lines()
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("X-Request-ID", request_id))
    response = SimpleNamespace(status="400 BAD REQUEST", sent=61, headers=headers)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/predict",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_USER_AGENT": "python-urllib3/2",
    }
    took = timedelta(microseconds=1534)

    # atoms() reads no state of the logger; constructing one would reconfigure logging.
    atoms = logs.GunicornLogger.atoms(None, response, None, environ, took)
    # As gunicorn's access() hands them to the logger.
    logging.getLogger("gunicorn.access").info("%(m)s", SafeAtoms(atoms))

    (line,) = json_lines()
    assert (line["method"], line["path"], line["query"]) == ("POST", "/predict", None)
    assert (line["status"], line["duration_ms"], line["response_bytes"]) == (400, 1.534, 61)
    assert (line["remote_addr"], line["user_agent"]) == ("10.0.0.5", "python-urllib3/2")
    assert line["request_id"] == request_id


def test_configuring_again_replaces_our_handler(json_lines):
    json_lines()
    logs.configure(service="worker", level="INFO", fmt="json")
    logging.getLogger("x").warning("once")
    lines = json_lines()
    assert len(lines) == 1
    assert lines[0]["service"] == "worker"


def test_console_format_is_readable(capsys):
    logs.configure(service="algorithm", level="INFO", fmt="console")
    structlog.get_logger("mlservice.x").info("Hello", answer=42)
    out = capsys.readouterr().out
    assert "Hello" in out
    assert "answer=42" in out
    assert not out.startswith("{")


def test_gunicorn_logconfig_is_a_valid_dict_config():
    logging.config.dictConfig(
        logs.gunicorn_logconfig(service="algorithm", level="INFO", fmt="json", flush_seconds=1)
    )
    (handler,) = logging.getLogger("gunicorn.access").handlers
    assert isinstance(handler.formatter, logs.ServiceFormatter)
    assert logging.getLogger("gunicorn.access").propagate is False


def test_configuring_again_writes_what_the_replaced_handler_held(capsys):
    logs.configure(service="algorithm", level="INFO", fmt="json", flush_seconds=3600)
    logging.getLogger("x").info("held back")
    assert capsys.readouterr().out == ""

    logs.configure(service="worker", level="INFO", fmt="json")

    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["event"] == "held back"
