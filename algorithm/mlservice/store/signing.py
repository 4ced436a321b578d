"""HMAC-SHA256 signatures over model metadata.

The metadata names both pickles' sha256, so one signature over it vouches for the pickles too:
verify the signature, then the checksums, and only then unpickle (paperless-ngx signs its
classifier the same way). The signed bytes are canonical JSON of the metadata without its
`signature` field: sorted keys, no whitespace, UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_FIELD = "signature"


def canonical_bytes(metadata: dict[str, Any]) -> bytes:
    unsigned = {key: value for key, value in metadata.items() if key != SIGNATURE_FIELD}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(metadata: dict[str, Any], key: str) -> str:
    return hmac.new(key.encode(), canonical_bytes(metadata), hashlib.sha256).hexdigest()


def is_signed_by(metadata: dict[str, Any], key: str) -> bool:
    signature = metadata.get(SIGNATURE_FIELD)
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(signature.encode(), sign(metadata, key).encode())
