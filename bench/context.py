"""What the bench's sections share: settings, the stack, clients, the rows and in-process models."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from bench import dataset
from bench.config import REAL_ROWS, BenchConfig
from bench.dataset import Row
from bench.in_process import InProcessModel
from bench.service_api import PublicApi
from bench.stack import BenchStack


@dataclass
class Context:
    config: BenchConfig
    stack: BenchStack
    api: PublicApi
    db: psycopg.Connection
    corpus: list[Row]
    # linear_svc models fitted in process, by row count (the predict rows reuse one).
    in_process_models: dict[int, InProcessModel] = field(default_factory=dict)
    _rows: list[Row] = field(default_factory=list)

    def rows(self, count: int) -> list[Row]:
        """The first `count` rows of the bench's data (the same on every run)."""
        if len(self._rows) < count:
            self._rows = dataset.take_rows(self.corpus, count)
        return self._rows[:count]

    def query_texts(self, count: int) -> list[str]:
        """Texts to predict: perturbed copies of real descriptions, so none is a training row."""
        return [text for text, _ in self.rows(REAL_ROWS + count)[REAL_ROWS:]]
