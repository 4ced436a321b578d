"""The two ways to page through /api/data/, both ordered by id.

- Page numbers (default): ?page=N&page_size=M -> {count, next, previous, results}. Simple,
  but ?page=N costs an OFFSET: the database walks past N * M rows, so deep pages get slower.
- Cursor (keyset): ?cursor= (empty: the first page), then follow `next` / `previous`
  -> {next, previous, results}, no count. Each page is `WHERE id > <last id> ORDER BY id
  LIMIT M` on the primary key, so page 20,000 costs what page 1 costs.

page_size works the same in both: an integer >= 1, capped at DATA_MAX_PAGE_SIZE.
"""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request

CURSOR_QUERY_PARAM = "cursor"
PAGE_QUERY_PARAM = "page"
PAGE_SIZE_QUERY_PARAM = "page_size"


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


class DataPagination(_StrictPageSize, PageNumberPagination):
    """Page numbers; a page past the end is DRF's 404."""

    page_query_param = PAGE_QUERY_PARAM

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None:
            _positive_int(raw, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)


class DataCursorPagination(_StrictPageSize, CursorPagination):
    """Keyset pages on the primary key (DRF's opaque, base64-encoded cursor)."""

    cursor_query_param = CURSOR_QUERY_PARAM
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        if PAGE_QUERY_PARAM in request.query_params:
            raise ValidationError({PAGE_QUERY_PARAM: ["Use either page or cursor, not both."]})
        return super().paginate_queryset(queryset, request, view)

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
