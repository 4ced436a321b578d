"""Request bodies are refused by size (per route) and by JSON shape before anything is built
from them: an attacker's 16 MB `[[],[],...]` costs web its bytes, not ~400 MB of lists."""

import io
import json
import tracemalloc
from wsgiref.util import setup_testing_defaults

import pytest
from django.test.client import ClientHandler

from accounts.services import token_create
from common.request_limits import JSONShape, json_shape_problem
from data.models import Data

MIB = 1024 * 1024
DEPTH = 32
VALUES = 4064


def empty_lists(size: int) -> bytes:
    """`[[],[],...]` of exactly `size` bytes (size - 2 divisible by 3, give or take a `[]`)."""
    count = (size - 2 + 1) // 3
    return b"[" + b",".join([b"[]"] * count) + b"]"


ATTACK = empty_lists(16 * MIB - 16)


def traced_peak(call):
    """The response of `call()` and the most memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        response = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


# --- the shape check on its own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param('{"text": "a", "label": "b"}', None, id="one-item"),
        pytest.param("[" * DEPTH + "]" * DEPTH, None, id="at-max-depth"),
        pytest.param("[" * (DEPTH + 1) + "]" * (DEPTH + 1), "nested too deeply", id="too-deep"),
        pytest.param('{"a":' * 40 + "1" + "}" * 40, "nested too deeply", id="deep-objects"),
        pytest.param("[" * 100_000, "too many values", id="unclosed-brackets"),
        pytest.param("]" * 100_000, "too many values", id="only-closers"),
        pytest.param("[" + "0," * VALUES + "0]", "too many values", id="wide-array"),
        pytest.param(
            "{" + ",".join(f'"k{i}":0' for i in range(VALUES + 1)) + "}",
            "too many values",
            id="wide-object",
        ),
        pytest.param(json.dumps({"text": "[" * 50_000 + "," * 50_000}), None, id="in-a-string"),
        pytest.param(json.dumps({"text": 'say \\"[[[\\" ' * 9_000}), None, id="escaped-quotes"),
        pytest.param(json.dumps(["\\"] * 10), None, id="backslash-strings"),
    ],
)
def test_json_shape_problem(document, problem):
    found = json_shape_problem(document.encode(), max_depth=DEPTH, max_values=VALUES)

    if problem is None:
        assert found is None
    else:
        assert problem in found


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 1000])
@pytest.mark.parametrize(
    "document",
    [
        pytest.param(json.dumps([{"text": 'a "[[[" \\ b', "label": "{,}"}] * 300), id="valid"),
        pytest.param('["\\\\"[[[\\"", ' * 50 + "0]", id="escapes"),
        pytest.param("[" * 40 + "]" * 40, id="deep"),
        pytest.param("[" + "0," * 5000 + "0]", id="wide"),
    ],
)
def test_the_shape_is_the_same_whatever_the_chunks(document, chunk_size):
    raw = document.encode()
    whole = json_shape_problem(raw, max_depth=DEPTH, max_values=VALUES)
    shape = JSONShape(max_depth=DEPTH, max_values=VALUES)

    found = None
    for start in range(0, len(raw), chunk_size):
        found = shape.feed(raw[start : start + chunk_size])
        if found:
            break

    assert found == whole


def test_the_largest_legitimate_bodies_pass_the_shape_check(settings):
    bulk = [{"text": "t", "label": "l"}] * settings.DATA_BULK_MAX_ITEMS
    batch = {"texts": ["t"] * settings.PREDICT_BATCH_MAX}

    for body in (bulk, batch):
        assert (
            json_shape_problem(
                json.dumps(body).encode(),
                max_depth=settings.REQUEST_JSON_MAX_DEPTH,
                max_values=settings.REQUEST_JSON_MAX_VALUES,
            )
            is None
        )


# --- through the API -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_attack_body_to_the_login_route_is_413(anonymous_client):
    response = anonymous_client.post(
        "/api/auth/token/", data=ATTACK, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large (at most 4096 bytes)."}


@pytest.mark.django_db
def test_a_login_body_over_the_auth_limit_is_413(anonymous_client, settings):
    settings.AUTH_MAX_BODY_BYTES = 100
    body = {"username": "alice", "password": "x" * 200}

    response = anonymous_client.post("/api/auth/token/", body, format="json")

    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is too large (at most 100 bytes)."


@pytest.mark.django_db
def test_a_login_body_under_the_auth_limit_is_read(anonymous_client, user):
    response = anonymous_client.post(
        "/api/auth/token/", {"username": "alice", "password": "alice-password"}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/data/", "/api/predict/"])
def test_the_attack_body_is_400_before_it_is_parsed(api_client, url):
    response, peak = traced_peak(
        lambda: api_client.post(url, data=ATTACK, content_type="application/json")
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - the document has too many values (at most 4064)."
    }
    # The body's bytes and its decoded text (~2 x 16 MiB), never the ~400 MB of lists.
    assert peak < 80 * MIB
    assert Data.objects.count() == 0


@pytest.mark.django_db
def test_the_attack_body_without_a_token_is_refused_before_it_is_parsed(anonymous_client):
    response, peak = traced_peak(
        lambda: anonymous_client.post("/api/data/", data=ATTACK, content_type="application/json")
    )

    assert response.status_code == 401
    assert peak < 80 * MIB


@pytest.mark.django_db
def test_a_deeply_nested_body_is_400(api_client):
    body = "[" * 33 + "]" * 33

    response = api_client.post("/api/data/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "JSON parse error - the document is nested too deeply (at most 32)."
    )


@pytest.mark.django_db
def test_a_bulk_of_the_maximum_size_with_brackets_in_its_texts_is_accepted(api_client, settings):
    settings.DATA_BULK_MAX_ITEMS = 1000
    items = [{"text": f"[{{{i}}}] , [[ ]] ,", "label": "l"} for i in range(1000)]

    response = api_client.post("/api/data/", items, format="json")

    assert response.status_code == 201
    assert Data.objects.count() == 1000


@pytest.mark.django_db
def test_a_body_over_the_limit_with_a_false_content_length_is_413(api_client, settings):
    """The parser reads at most the limit, whatever reached it."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps([{"text": "x" * 100, "label": "l"}] * 20).encode()

    response = api_client.generic(
        "POST", "/api/data/", body, content_type="application/json", CONTENT_LENGTH="999"
    )

    # Django hands the view at most 999 bytes: truncated JSON, never the whole body.
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert Data.objects.count() == 0


class CountingInput(io.RawIOBase):
    """A WSGI input of `size` bytes (`pattern` repeated) that records how many were read."""

    def __init__(self, size: int, pattern: bytes = b"[") -> None:
        self.size = size
        self.pattern = pattern
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        start = self.read_bytes % len(self.pattern)
        repeated = self.pattern * (count // len(self.pattern) + 2)
        buffer[:count] = repeated[start : start + count]
        self.read_bytes += count
        return count


def wsgi_post(path: str, stream: CountingInput, **environ):
    """POST through Django's request handling as gunicorn calls it, with this body stream."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "wsgi.input": stream,
        **environ,
    }
    setup_testing_defaults(environ)
    return ClientHandler()(environ)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/token/", "/admin/login/"])
def test_a_declared_length_over_the_auth_limit_is_413_and_nothing_of_it_is_kept(path):
    stream = CountingInput(4 * MIB, pattern=b"[],")

    response, peak = traced_peak(lambda: wsgi_post(path, stream, CONTENT_LENGTH=str(stream.size)))

    assert response.status_code == 413
    assert json.loads(response.content) == {
        "detail": "The request body is too large (at most 4096 bytes)."
    }
    assert peak < 2 * MIB
    # Read and thrown away after the answer, so that nginx can relay it (see the middleware).
    assert stream.read_bytes == stream.size


@pytest.mark.django_db
def test_a_declared_length_over_the_global_limit_is_413_and_never_read(settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    stream = CountingInput(limit + 1)

    response = wsgi_post("/api/data/", stream, CONTENT_LENGTH=str(limit + 1))

    assert response.status_code == 413
    assert json.loads(response.content) == {
        "detail": f"The request body is too large (at most {limit} bytes)."
    }
    assert stream.read_bytes == 0


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/data/"])
def test_a_chunked_body_without_content_length_is_not_read(path, user):
    """gunicorn passes a chunked body with no CONTENT_LENGTH; Django then reads none of it
    (behind nginx, which buffers it and sends a Content-Length, the checks above apply)."""
    stream = CountingInput(16 * MIB)
    _, token = token_create(user=user, name="test")

    response = wsgi_post(
        path, stream, HTTP_TRANSFER_ENCODING="chunked", HTTP_AUTHORIZATION=f"Token {token}"
    )

    assert response.status_code == 400
    assert stream.read_bytes == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "with_token", "status"),
    [("/api/data/", True, 400), ("/api/predict/", True, 400), ("/api/data/", False, 401)],
)
def test_the_attack_body_costs_constant_memory_and_is_drained(path, with_token, status, user):
    """Refused after its first 64 KB; the rest is read and thrown away in 64 KB pieces."""
    stream = CountingInput(16 * MIB - 16, pattern=b"[],")
    _, token = token_create(user=user, name="test")
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"} if with_token else {}

    response, peak = traced_peak(
        lambda: wsgi_post(path, stream, CONTENT_LENGTH=str(stream.size), **auth)
    )

    assert response.status_code == status
    assert peak < 8 * MIB
    assert stream.read_bytes == stream.size
