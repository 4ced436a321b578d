"""Row group 5b: listing `data` at 1M rows, first page and a deep page, page numbers vs cursor,
and the first page of ?search= (a frequent word and a rare one: the trigram index's two ends).

The table is filled by COPY to the size (continuing from what is there when it is a prefix of
the bench's rows), then VACUUM ANALYZE, as autovacuum would do soon after such a load. Each URL
is fetched once to warm up, then timed one request at a time; rows report the median.
"""

from __future__ import annotations

import base64
import statistics
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from bench import database
from bench.context import Context
from bench.report import Row, milliseconds, rows_count, seconds

SECTION = "5 data API"
PAGE_SIZE = 50
MAX_FIRST_PAGE = 0.100
MAX_DEEP_CURSOR_RATIO = 1.5
# A word in thousands of the descriptions, and one in a few dozen.
SEARCH_TERMS = ("library", "quaternion")
CURSOR_PARAM = "cursor"


class CursorModeMissing(RuntimeError):
    """The list endpoint does not page by cursor (yet)."""


def run(ctx: Context) -> list[Row]:
    size = ctx.config.list_rows
    load_seconds = _fill(ctx, size)
    deep_page = size // PAGE_SIZE - 1
    first = _median_get(ctx, {"page_size": PAGE_SIZE})
    deep = _median_get(ctx, {"page_size": PAGE_SIZE, "page": deep_page})
    at = f"at {rows_count(size)} rows"
    rows = [
        Row(SECTION, f"fill `data` to {rows_count(size)} rows (COPY + VACUUM ANALYZE)",
            seconds(load_seconds)),
        Row(SECTION, f"list, first page of {PAGE_SIZE} ({at})", milliseconds(first),
            f"< {milliseconds(MAX_FIRST_PAGE)}", first < MAX_FIRST_PAGE),
        Row(SECTION, f"list, ?page={deep_page:,} ({at})", milliseconds(deep)),
    ]  # fmt: skip
    return rows + _cursor_rows(ctx, deep_row=deep_page * PAGE_SIZE, at=at) + _search_rows(ctx, at)


def _search_rows(ctx: Context, at: str) -> list[Row]:
    rows = []
    for term in SEARCH_TERMS:
        first = _median_get(ctx, {"page_size": PAGE_SIZE, "search": term})
        rows.append(
            Row(SECTION, f"list, ?search={term}, first page of {PAGE_SIZE} ({at})",
                milliseconds(first), f"< {milliseconds(MAX_FIRST_PAGE)}", first < MAX_FIRST_PAGE)
        )  # fmt: skip
    return rows


def _cursor_rows(ctx: Context, *, deep_row: int, at: str) -> list[Row]:
    name = f"list, cursor mode (?{CURSOR_PARAM}=), page at row {rows_count(deep_row)} ({at})"
    target = f"≤ {MAX_DEEP_CURSOR_RATIO}x its first page"
    try:
        deep_cursor = _cursor_at(ctx, deep_row)
    except CursorModeMissing as exc:
        return [Row(SECTION, name, f"no cursor mode: {exc}", target, False)]
    first = _median_get(ctx, {"page_size": PAGE_SIZE, CURSOR_PARAM: ""})
    deep = _median_get(ctx, {"page_size": PAGE_SIZE, CURSOR_PARAM: deep_cursor})
    return [
        Row(SECTION, f"list, cursor mode, first page ({at})", milliseconds(first)),
        Row(SECTION, name, f"{milliseconds(deep)} ({deep / first:.2f}x its first page)", target,
            deep <= MAX_DEEP_CURSOR_RATIO * first),
    ]  # fmt: skip


def _fill(ctx: Context, size: int) -> float:
    """Make `data` hold the bench's first `size` rows; seconds spent."""
    started = time.perf_counter()
    present = database.count(ctx.db)
    if present > size:
        database.truncate(ctx.db)
        present = 0
    database.copy_rows(ctx.db, ctx.rows(size)[present:])
    database.vacuum_analyze(ctx.db)
    return time.perf_counter() - started


def _median_get(ctx: Context, params: dict) -> float:
    durations = []
    for attempt in range(1 + ctx.config.list_requests):
        started = time.perf_counter()
        response = ctx.api.get("/api/data/", **params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"list {params}: {response.status_code} {response.text[:300]}")
        if attempt:
            durations.append(elapsed)
    return statistics.median(durations)


def _cursor_at(ctx: Context, offset: int) -> str:
    """A cursor positioned after the row at `offset` (DRF's CursorPagination encoding)."""
    response = ctx.api.get("/api/data/", page_size=PAGE_SIZE, **{CURSOR_PARAM: ""})
    next_url = response.json().get("next") if response.status_code == 200 else None
    next_cursor = parse_qs(urlsplit(next_url or "").query).get(CURSOR_PARAM)
    if not next_cursor:
        raise CursorModeMissing(f"status {response.status_code}, next={next_url!r}")
    position = ctx.api.get("/api/data/", page_size=1, page=offset).json()["results"][0]["id"]
    fields = parse_qs(base64.b64decode(next_cursor[0]).decode("ascii"))
    fields["p"] = [str(position)]
    return base64.b64encode(urlencode(fields, doseq=True).encode("ascii")).decode("ascii")
