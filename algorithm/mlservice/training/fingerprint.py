"""A hash of the rows a training reads, so an unchanged table is not trained again.

paperless-ngx skips retraining when the documents' data has not changed; here the hash covers
every row's id, text and label in id order, and the settings that change what a model learns
from them (the classifier, and whether only verified rows are read). A changed row, an added or
deleted one, or another classifier gives another hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def data_hash(
    row_ids: Sequence[int],
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    classifier: str,
    verified_only: bool,
) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{classifier}\0{verified_only}\0".encode())
    for row_id, text, label in zip(row_ids, texts, labels, strict=True):
        encoded_text = text.encode()
        encoded_label = label.encode()
        # Lengths first: no two different rows (or row boundaries) hash alike.
        digest.update(
            f"{row_id}:{len(encoded_text)}:{len(encoded_label)}:".encode()
            + encoded_text
            + encoded_label
        )
    return digest.hexdigest()
