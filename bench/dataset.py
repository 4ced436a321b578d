"""The bench's rows: the real Debian corpus, then perturbed copies of it for the larger sizes.

Row order is fixed by seeds, so every prefix is the same on every run: the first REAL_ROWS rows
are the real corpus in a shuffled order (a prefix of 1,000 or 5,000 is a random sample of it),
and each later block of REAL_ROWS rows is the corpus again, reshuffled, each text with ~10% of
its words dropped and one pair of neighbouring words swapped. The copies keep the vocabulary and
the label mix of the real data, so TF-IDF matrices and training costs grow as with more real
descriptions of the same kind; near-duplicates across the 75/25 split do flatter held-out
accuracy above REAL_ROWS rows (BENCHMARKS.md says so).
"""

from __future__ import annotations

import csv
import gzip
import itertools
import random
from collections.abc import Iterator
from pathlib import Path

Row = tuple[str, str]  # (text, label)

WORD_DROPOUT = 0.1
_SEED = 5


def read_corpus(path: Path) -> list[Row]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [(row["text"], row["label"]) for row in csv.DictReader(handle)]


def iter_rows(corpus: list[Row]) -> Iterator[Row]:
    """An endless stream: the corpus shuffled, then perturbed reshuffled copies of it."""
    for copy in itertools.count():
        rng = random.Random(_SEED + copy)
        order = list(range(len(corpus)))
        rng.shuffle(order)
        for index in order:
            text, label = corpus[index]
            yield (text if copy == 0 else perturb(text, rng)), label


def take_rows(corpus: list[Row], count: int) -> list[Row]:
    """The first `count` rows of the stream."""
    return list(itertools.islice(iter_rows(corpus), count))


def perturb(text: str, rng: random.Random) -> str:
    """Drop ~10% of the words and swap one neighbouring pair; never returns a blank text."""
    words = [word for word in text.split() if rng.random() >= WORD_DROPOUT]
    if len(words) >= 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words) if words else text
