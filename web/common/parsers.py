import codecs

from django.conf import settings
from rest_framework import exceptions, parsers, renderers, status
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json

from common.request_limits import JSONShape, body_limit, too_large_detail

READ_CHUNK_BYTES = 64 * 1024


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_body_too_large"


class JSONParser(parsers.BaseParser):
    """DRF's JSON parser, reading at most the route's body limit and refusing documents whose
    shape would cost far more memory than their size as they are read, before anything is
    parsed (see common.request_limits).

    Not a subclass of DRF's JSONParser: DRF reads the whole body into memory (request.body)
    before calling one of those, and this parser reads the stream itself.
    The stdlib decoder raises RecursionError (not ValueError) on very deep documents, which
    DRF would let through as a 500; the depth check refuses those first.
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer
    strict = api_settings.STRICT_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = body_limit(request.path) if request is not None else _default_limit()
        encoding = parsers.get_encoding(parser_context)  # text codecs only (no bz2_codec)
        shape = JSONShape(
            max_depth=settings.REQUEST_JSON_MAX_DEPTH, max_values=settings.REQUEST_JSON_MAX_VALUES
        )
        if codecs.lookup(encoding).name == "utf-8":
            raw = _read_checked(stream, limit, shape)
        else:
            # The scan needs UTF-8: other charsets are read whole (within the limit) first.
            raw = _read_checked(stream, limit, None)
            raw = _decode(raw, encoding).encode("utf-8")
            _refuse_if(shape.feed(raw))
        document = _decode(raw, "utf-8")
        del raw
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(document, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


def _read_checked(stream, limit: int, shape: JSONShape | None) -> bytes:
    """At most `limit` bytes of the body, in chunks, each scanned as it arrives: a document
    refused by its shape is refused before the rest of it is read."""
    chunks, size = [], 0
    while stream is not None:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            # The middleware refused a larger Content-Length; this bounds whatever bypassed it.
            raise RequestBodyTooLarge(too_large_detail(limit))
        if shape is not None:
            _refuse_if(shape.feed(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None


def _refuse_if(problem: str | None) -> None:
    if problem:
        raise ParseError(problem)


def _default_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
