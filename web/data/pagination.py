"""The two ways to page through /api/data/, both ordered by id.

- Page numbers (default): ?page=N&page_size=M -> {count, next, previous, results}. Simple,
  but ?page=N costs an OFFSET: the database walks past N * M rows, so deep pages get slower.
- Cursor (keyset): ?cursor= (empty: the first page), then follow `next` / `previous`
  -> {next, previous, results}, no count. Each page is `WHERE id > <last id> ORDER BY id
  LIMIT M` on the primary key, so page 20,000 costs what page 1 costs.

page_size works the same in both: an integer >= 1, capped at DATA_MAX_PAGE_SIZE.

A search (?search=) in page mode counts its matches only up to DATA_SEARCH_COUNT_CAP, or up to
the requested page's end when that is further: a substring has no index that could count its
matches, so an exact count reads every one of them (hundreds of thousands for a common word),
while the page itself needs only the first few. Past the cap, `count` is the cap and
`count_exact` is false: "more than `count` match". Every page still knows whether a next one
exists, so paging on past the cap works.

No page carries more than DATA_MAX_RESPONSE_BYTES of texts (1,000 texts of TEXT_MAX_LENGTH
would be ~100 MB, held in memory several times over while the response is built). The page
query itself sums the texts' stored sizes in id order (a window over OCTET_LENGTH, which reads
a text's length without reading the text) and returns no text past the cap, so those texts are
never read from the database either:
- cursor mode: the page stops early, at the last row whose text still fits (the first row is
  always returned: one text is far below the cap), and `next` continues from there; a short
  page does not mean the end.
- page mode: a page cannot end early without shifting every later page, so a page over the cap
  is a 400 that says to ask for a smaller page_size or to page with ?cursor=.
"""

from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Case, F, Func, IntegerField, Q, QuerySet, Sum, TextField, When, Window
from django.db.models.expressions import RowRange
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from data.models import Data

CURSOR_QUERY_PARAM = "cursor"
PAGE_QUERY_PARAM = "page"
PAGE_SIZE_QUERY_PARAM = "page_size"
SEARCH_QUERY_PARAM = "search"
# Beyond any table's row count, and with LIMIT count + 1 still within Postgres's bigint.
_MAX_COUNT = 2**62


class _StrictPageSize:
    page_size_query_param = PAGE_SIZE_QUERY_PARAM

    @property
    def max_page_size(self) -> int:
        return settings.DATA_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        """A page_size that is not an integer >= 1 is a 400, not silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return min(settings.DATA_PAGE_SIZE, self.max_page_size)
        return min(_positive_int(raw, self.page_size_query_param), self.max_page_size)


class _CappedPaginator(Paginator):
    """Django's paginator, whose pages are read with texts_within_cap and refused over it, and
    which counts at most `count_up_to` + 1 rows when given a bound."""

    def __init__(self, object_list, per_page, *, count_up_to: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.count_up_to = count_up_to

    @cached_property
    def count(self) -> int:
        """The rows, or `count_up_to` + 1 when there are more: enough to know that a page
        within the bound exists and whether another follows it."""
        if self.count_up_to is None:
            return super().count
        return _count_up_to(self.object_list, self.count_up_to)

    @property
    def count_exact(self) -> bool:
        return self.count_up_to is None or self.count <= self.count_up_to

    @property
    def few_matches(self) -> bool:
        """A search whose count found at most DATA_SEARCH_COUNT_CAP rows."""
        return self.count_up_to is not None and self.count <= settings.DATA_SEARCH_COUNT_CAP

    @property
    def reported_count(self) -> int:
        return self.count if self.count_exact else self.count_up_to

    def page(self, number):
        page = super().page(number)
        ids = page.object_list.values("id")
        with search_indexes_only(self.few_matches):
            rows = list(texts_within_cap(Data.objects.filter(id__in=ids).order_by("id")))
        if not _keep_within_cap(rows):
            cap = settings.DATA_MAX_RESPONSE_BYTES
            raise ValidationError(
                {
                    PAGE_SIZE_QUERY_PARAM: [
                        f"This page's texts exceed {cap} bytes (DATA_MAX_RESPONSE_BYTES): "
                        "ask for a smaller page_size, or page with ?cursor= (its pages stop "
                        "at the cap)."
                    ]
                }
            )
        page.object_list = rows
        return page


@contextmanager
def search_indexes_only(enabled: bool):
    """Within the block, when `enabled`, Postgres reads `data` by bitmap scans only.

    It estimates a substring's matches from a histogram of sampled texts, and a sample that
    happens to hold a rare word's text can make it walk the primary key with a filter, reading
    most of the table for a few dozen matches (BENCHMARKS.md, 2026-12-05). A search that has
    counted few matches knows better: for them the trigram and backlog indexes are the cheap
    way, whatever the estimate.
    """
    if not enabled:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield
        # Inside a caller's transaction SET LOCAL would outlive this block (an error rolls the
        # savepoint back, and the settings with it).
        cursor.execute("SET LOCAL enable_indexscan = DEFAULT")
        cursor.execute("SET LOCAL enable_seqscan = DEFAULT")


def _count_up_to(queryset: QuerySet[Data], bound: int) -> int:
    """The rows, or `bound` + 1 when there are more."""
    # Unordered: ORDER BY id would let the planner walk the primary key for a rare term.
    return queryset.order_by()[: bound + 1].count()


def _has_few_matches(queryset: QuerySet[Data]) -> bool:
    """At most DATA_SEARCH_COUNT_CAP rows; counts no further than one past it."""
    cap = settings.DATA_SEARCH_COUNT_CAP
    return _count_up_to(queryset, cap) <= cap


class DataPagination(_StrictPageSize, PageNumberPagination):
    """Page numbers; a page past the end is DRF's 404."""

    page_query_param = PAGE_QUERY_PARAM
    django_paginator_class = _CappedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        number = 1 if raw is None else _positive_int(raw, self.page_query_param)
        count_up_to = None
        if request.query_params.get(SEARCH_QUERY_PARAM):
            page_end = min(number * self.get_page_size(request), _MAX_COUNT)
            count_up_to = max(settings.DATA_SEARCH_COUNT_CAP, page_end)
        self.django_paginator_class = partial(_CappedPaginator, count_up_to=count_up_to)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.reported_count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "False when more than `count` rows match: a search counts its "
            "matches only up to DATA_SEARCH_COUNT_CAP (or the requested page's end).",
        }
        paginated["required"] = [*paginated.get("required", []), "count_exact"]
        return paginated


class DataCursorPagination(_StrictPageSize, CursorPagination):
    """Keyset pages on the primary key (DRF's opaque, base64-encoded cursor)."""

    cursor_query_param = CURSOR_QUERY_PARAM
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        if PAGE_QUERY_PARAM in request.query_params:
            raise ValidationError({PAGE_QUERY_PARAM: ["Use either page or cursor, not both."]})
        cursor = self.decode_cursor(request)
        backwards = cursor is not None and cursor.reverse
        # No count to show here; for a search, one up to the cap decides how to read the page.
        searching = bool(request.query_params.get(SEARCH_QUERY_PARAM))
        with search_indexes_only(searching and _has_few_matches(queryset)):
            page = super().paginate_queryset(
                texts_within_cap(queryset, descending=backwards), request, view
            )
        # The rows past the cap are the ones furthest from the cursor: the end of a forward
        # page, the start of a backward one (DRF has put it back in id order).
        kept = list(reversed(page)) if backwards else list(page)
        if not _keep_within_cap(kept):
            first_left_out = next(row for row in kept if row.text_within_cap is None)
            kept = kept[: kept.index(first_left_out)]
            # What DRF records for a page followed by more rows (cursor.position is an id).
            if backwards:
                self.has_previous = True
                self.previous_position = str(first_left_out.id)
            else:
                self.has_next = True
                self.next_position = str(first_left_out.id)
        self.page = list(reversed(kept)) if backwards else kept
        self.display_page_controls = self.has_previous or self.has_next
        return self.page

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A malformed cursor is a 400 (DRF answers 404); its position must be an id."""
        try:
            cursor = super().decode_cursor(request)
        except Exception:  # DRF raises NotFound for every decoding failure
            cursor = False
        if cursor is None:
            return None
        if not cursor or not _is_id(cursor.position):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        return cursor


def uses_cursor(request: Request) -> bool:
    return CURSOR_QUERY_PARAM in request.query_params


def _is_id(position: str | None) -> bool:
    # None: the cursor of the first page, as DRF itself encodes "previous" from page 2.
    return position is None or (position.isascii() and position.isdigit() and len(position) < 20)


def _positive_int(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationError({name: ["A positive integer is required."]})
    return int(raw)


class _OctetLength(Func):
    function = "OCTET_LENGTH"
    output_field = IntegerField()


def texts_within_cap(queryset: QuerySet[Data], *, descending: bool = False) -> QuerySet[Data]:
    """`queryset` whose rows carry `text_within_cap`: the text while the texts up to and
    including it (in id order, or descending) add up to at most DATA_MAX_RESPONSE_BYTES, and
    always for the first row; else None."""
    text_bytes = _OctetLength("text")
    bytes_through = Window(
        Sum(text_bytes),
        order_by=F("id").desc() if descending else F("id").asc(),
        frame=RowRange(start=None, end=0),
    )
    # Texts are never empty (a database constraint): only the first row's running total is
    # its own length.
    within = Q(bytes_through__lte=settings.DATA_MAX_RESPONSE_BYTES) | Q(bytes_through=text_bytes)
    return (
        queryset.defer("text")
        .annotate(bytes_through=bytes_through)
        .annotate(
            text_within_cap=Case(
                When(within, then=F("text")), default=None, output_field=TextField()
            )
        )
    )


def _keep_within_cap(rows: list[Data]) -> bool:
    """Give each row its text; False if some row's text was past the cap (text is NOT NULL,
    so None means exactly that)."""
    complete = True
    for row in rows:
        if row.text_within_cap is None:
            complete = False
        else:
            row.text = row.text_within_cap
    return complete
