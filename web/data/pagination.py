from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class DataPagination(PageNumberPagination):
    """Page-number pagination with strict query parameters.

    ?page_size= above DATA_MAX_PAGE_SIZE is capped to it (asking for "everything" still
    works, in bounded pages); a page_size or page that is not an integer >= 1 is a 400
    rather than silently replaced by a default. A page past the end is DRF's 404.
    """

    page_query_param = "page"
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.DATA_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return min(settings.DATA_PAGE_SIZE, self.max_page_size)
        return min(_positive_int(raw, self.page_size_query_param), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None:
            _positive_int(raw, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)


def _positive_int(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationError({name: ["A positive integer is required."]})
    return int(raw)
