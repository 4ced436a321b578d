"""Reads from the `data` table."""

from collections.abc import Mapping

from django.db.models import QuerySet

from data.filters import DataFilter
from data.models import Data


def data_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Data]:
    """All rows matching `filters` (label, search), oldest first: stable pagination by id."""
    queryset = Data.objects.order_by("id")
    return DataFilter(dict(filters or {}), queryset).qs


def data_get(*, data_id: int) -> Data | None:
    try:
        return Data.objects.get(id=data_id)
    except Data.DoesNotExist:
        return None
