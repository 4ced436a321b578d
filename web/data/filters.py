import django_filters

from data.models import Data
from data.search_index import matching


class DataFilter(django_filters.FilterSet):
    """?label= exact label; ?search= case-insensitive substring of the text. Blank = no filter.

    The API refuses a search shorter than 3 characters (DataFilterSerializer): the trigram
    index cannot narrow it. Searches the index narrows poorly (common trigrams, no letters or
    digits) are bounded by the statement timeout (DATABASE_STATEMENT_TIMEOUT_MS).
    """

    label = django_filters.CharFilter(field_name="label", lookup_expr="exact", strip=False)
    search = django_filters.CharFilter(method="filter_search", strip=False)

    class Meta:
        model = Data
        fields = ("label", "search")

    def filter_search(self, queryset, name, value):
        return queryset.filter(matching(value))
