"""Bulk import with a resume record, so an interrupted import continues without duplicates.

Rows go to POST /api/data/ as JSON lists, one transaction per list on the server: a batch is
either wholly saved or not at all. The resume record (one JSON file per file content and server,
named by the file's sha256) holds how far the server has acknowledged. Before each batch it also
notes the batch as "in flight", with how many rows on the server already looked like the batch's
last row: if the client dies after sending a batch but before reading the answer, the next
--resume asks the server whether that row count grew, i.e. whether the batch was saved.
A finished import keeps its record: running it again by mistake is refused.
(Exact unless another client adds the same text under the same label at the same moment.)
A search counts only so far on the server (DATA_SEARCH_COUNT_CAP): when more rows than that look
like the probe, the resume cannot tell, and says so instead of guessing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from textclf_cli.client import ApiError, Client
from textclf_cli.rows import Row, validate

DEFAULT_BATCH_SIZE = 1000  # the server's DATA_BULK_MAX_ITEMS default
# The in-flight probe searches for a prefix of the row's text: a whole text can be longer than
# a URL may be.
PROBE_PREFIX = 100


class ImportStateError(Exception):
    pass


@dataclass
class ImportState:
    sha256: str
    url: str
    path: str
    done: int = 0  # rows of the file (in file order) the server has acknowledged or we rejected
    added: int = 0
    skipped: int = 0
    rejected: list[list[Any]] = field(default_factory=list)  # [line, reason]
    in_flight: dict[str, Any] | None = None
    complete: bool = False  # kept, so that running the same import again is refused


@dataclass
class Pending:
    rejected: list[list[Any]] = field(default_factory=list)
    skipped: int = 0


@dataclass
class Summary:
    rows: int
    added: int
    skipped: int
    rejected: list[tuple[int, str]]
    resumed_from: int = 0


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, sha256: str, url: str) -> Path:
        server = hashlib.sha256(url.encode()).hexdigest()[:12]
        return self.directory / f"{sha256}-{server}.json"

    def load(self, sha256: str, url: str) -> ImportState | None:
        path = self.path(sha256, url)
        if not path.exists():
            return None
        return ImportState(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, state: ImportState) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path(state.sha256, state.url)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state)), encoding="utf-8")
        os.replace(temporary, path)

    def delete(self, state: ImportState) -> None:
        self.path(state.sha256, state.url).unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def server_rows(client: Client, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every row on the server, oldest first, by keyset pages."""
    path: str | None = f"/api/data/?{urlencode({'cursor': '', 'page_size': page_size})}"
    while path:
        page = client.get(path)
        yield from page["results"]
        path = client.relative(page["next"]) if page.get("next") else None


def _matches(client: Client, item: dict[str, str]) -> int | None:
    """How many rows on the server look like `item`; None when more than the server counts."""
    query = urlencode(
        {"label": item["label"], "search": item["text"][:PROBE_PREFIX], "page_size": 1}
    )
    page = client.get(f"/api/data/?{query}")
    return int(page["count"]) if page.get("count_exact", True) else None


def _index_errors(error: ApiError, size: int) -> dict[int, str]:
    """{index in the batch: reason} from a 400's per-item `errors`, or {} if it has none."""
    errors = error.body.get("errors") if isinstance(error.body, dict) else None
    if error.status != 400 or not isinstance(errors, dict):
        return {}
    found = {}
    for key, fields in errors.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < size):
            return {}
        if isinstance(fields, dict):
            found[int(key)] = "; ".join(
                f"{name}: {' '.join(map(str, _as_list(messages)))}"
                for name, messages in fields.items()
            )
        else:
            found[int(key)] = str(fields)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Importer:
    def __init__(
        self,
        client: Client,
        store: StateStore,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_progress: Callable[[int], None] = lambda done: None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.client = client
        self.store = store
        self.batch_size = batch_size
        self.on_progress = on_progress

    def run(
        self,
        *,
        path: Path,
        rows: list[Row],
        sha256: str,
        resume: bool = False,
        restart: bool = False,
        skip_existing: bool = False,
    ) -> Summary:
        state = self.store.load(sha256, self.client.url)
        if state and state.complete and resume:
            return self._summary(state, len(rows), resumed_from=state.done)
        if state and (restart or skip_existing):
            # --skip-existing cannot add a row twice, so it needs no record of an earlier run.
            self.store.delete(state)
            state = None
        if state and state.complete:
            raise ImportStateError(
                f"this file was already imported to {self.client.url} ({state.added} rows "
                "added); add only what is missing with --skip-existing, or all of it again "
                "with --restart"
            )
        if state:
            if not resume:
                raise ImportStateError(
                    f"an import of this file to {self.client.url} stopped after {state.done} of "
                    f"{len(rows)} rows; continue it with --resume (or start over with --restart)"
                )
            self._settle_in_flight(state)
            resumed_from = state.done
        else:
            state = ImportState(sha256=sha256, url=self.client.url, path=str(path))
            resumed_from = 0
        self.store.save(state)
        self.on_progress(state.done)

        existing = Counter[tuple[str, str]]()
        if skip_existing:
            existing.update((item["text"], item["label"]) for item in server_rows(self.client))

        batch: list[tuple[int, Row]] = []  # (index in the file, row)
        pending = Pending()  # rejected/skipped rows not yet covered by state.done
        for index in range(state.done, len(rows)):
            row = rows[index]
            key = (row.text, row.label)
            if reason := validate(row):
                pending.rejected.append([row.line, reason])
            elif existing[key] > 0:
                existing[key] -= 1
                pending.skipped += 1
            else:
                batch.append((index, row))
            if len(batch) == self.batch_size:
                self._send(state, batch, pending, through=index + 1)
                batch, pending = [], Pending()
        self._send(state, batch, pending, through=len(rows))
        state.complete = True
        self.store.save(state)
        return self._summary(state, len(rows), resumed_from=resumed_from)

    @staticmethod
    def _summary(state: ImportState, rows: int, *, resumed_from: int) -> Summary:
        return Summary(
            rows=rows,
            added=state.added,
            skipped=state.skipped,
            rejected=[(line, reason) for line, reason in state.rejected],
            resumed_from=resumed_from,
        )

    def _send(
        self, state: ImportState, batch: list[tuple[int, Row]], pending: Pending, *, through: int
    ) -> None:
        """Send one batch (possibly empty) and mark the file done up to `through`.

        A 400 naming bad items saved nothing: those items join the rejected and the rest is sent
        again.
        """
        added = 0
        while batch:
            items = [{"text": row.text, "label": row.label} for _, row in batch]
            state.in_flight = {
                "through": through,
                "size": len(items),
                "probe": items[-1],
                "matches_before": _matches(self.client, items[-1]),
                **asdict(pending),
            }
            self.store.save(state)
            try:
                self.client.post("/api/data/", json=items)
            except ApiError as exc:
                bad = _index_errors(exc, len(batch))
                if not bad:
                    state.in_flight = None
                    self.store.save(state)
                    raise
                pending.rejected.extend([batch[i][1].line, reason] for i, reason in bad.items())
                batch = [entry for i, entry in enumerate(batch) if i not in bad]
                continue
            added = len(items)
            break
        self._commit(state, through=through, added=added, pending=pending)

    def _commit(self, state: ImportState, *, through: int, added: int, pending: Pending) -> None:
        state.added += added
        state.skipped += pending.skipped
        state.rejected = sorted(state.rejected + pending.rejected)
        state.done = through
        state.in_flight = None
        self.store.save(state)
        self.on_progress(state.done)

    def _settle_in_flight(self, state: ImportState) -> None:
        flight = state.in_flight
        if not flight:
            return
        before, now = flight["matches_before"], _matches(self.client, flight["probe"])
        if before is None or now is None:
            raise ImportStateError(
                "cannot tell whether the batch sent just before the interruption was saved: more "
                "rows on the server look like its last row than the server counts in a search; "
                "import the file again with --skip-existing, which leaves out the rows already "
                "there"
            )
        if now > before:
            pending = Pending(rejected=flight["rejected"], skipped=flight["skipped"])
            self._commit(state, through=flight["through"], added=flight["size"], pending=pending)
        else:
            state.in_flight = None
