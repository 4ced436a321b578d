"""What makes a POST /api/predict/ call a plain one: a single text (with `explain`, if sent),
valid under the API's input rules, sent as JSON with nothing that could change how the answer
is rendered. Such a call is answered on a short path (web's, and the ML API's behind nginx);
every other call, valid or not, goes through web's DRF view, which has the error messages.

Pure functions of the request's parts, so that both services apply exactly the same test.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Larger bodies go through DRF's parser, which checks a document's shape as it reads it.
MAX_BODY_BYTES = 64 * 1024
# Terms an explanation may list, per text.
EXPLAIN_MAX = 20
SURROGATE = re.compile("[\ud800-\udfff]")
# Accept values under which DRF's negotiation can only choose JSON (the first renderer).
_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})


def is_plain_request(
    *, query_string: str, accept: str, content_type: str, content_length: str, max_bytes: int
) -> bool:
    """The request's line and headers allow a plain call: no query string (it may pick DRF's
    renderer, ?format=api), an Accept that can only mean JSON, a JSON body of known size."""
    if query_string or accept.strip() not in _JSON_ACCEPTS:
        return False
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    if parameters.strip() and parameters.replace(" ", "").lower() != "charset=utf-8":
        return False
    try:
        length = int(content_length or 0)
    except ValueError:
        return False
    return 0 < length <= min(MAX_BODY_BYTES, max_bytes)


def plain_payload(body: bytes, *, text_max_length: int) -> dict[str, Any] | None:
    """`{"text": ...}` (with `explain`, if sent) when the body is exactly a valid single-text
    call under the API's rules (web's PredictInputSerializer); None for anything else, valid
    or not."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or "text" not in data or not data.keys() <= {"text", "explain"}:
        return None
    text = data["text"]
    if (
        type(text) is not str
        or len(text) > text_max_length
        or not text.strip()
        or "\x00" in text
        or SURROGATE.search(text)
    ):
        return None
    if "explain" in data:
        explain = data["explain"]
        if type(explain) is not int or not 1 <= explain <= EXPLAIN_MAX:
            return None
    return data
