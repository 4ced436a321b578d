import django_filters

from data.models import Data


class DataFilter(django_filters.FilterSet):
    """?label= exact label; ?search= case-insensitive substring of the text. Blank = no filter."""

    label = django_filters.CharFilter(field_name="label", lookup_expr="exact", strip=False)
    search = django_filters.CharFilter(field_name="text", lookup_expr="ilike_contains", strip=False)

    class Meta:
        model = Data
        fields = ("label", "search")
