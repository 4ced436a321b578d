from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from common.request_limits import body_limit, json_shape_problem, too_large_detail


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_body_too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading at most the route's body limit and refusing documents whose
    shape would cost far more memory than their size, before they are parsed (see
    common.request_limits).

    The stdlib decoder raises RecursionError (not ValueError) on very deep documents, which
    DRF would let through as a 500; the depth check refuses those first.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = body_limit(request.path) if request is not None else _default_limit()
        # The middleware refused a larger Content-Length; this bounds whatever bypassed it.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge(too_large_detail(limit))
        encoding = parsers.get_encoding(parser_context)  # text codecs only (no bz2_codec)
        try:
            document = raw.decode(encoding)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        del raw
        problem = json_shape_problem(
            document,
            max_depth=settings.REQUEST_JSON_MAX_DEPTH,
            max_values=settings.REQUEST_JSON_MAX_VALUES,
        )
        if problem:
            raise ParseError(problem)
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(document, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


def _default_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
