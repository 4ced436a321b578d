"""Reads from the `data` table."""

from collections.abc import Mapping

from django.db.models import Count, Q, QuerySet

from data.filters import DataFilter
from data.models import Data, Feedback


def data_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Data]:
    """All rows matching `filters` (label, search), oldest first: stable pagination by id."""
    queryset = Data.objects.order_by("id")
    return DataFilter(dict(filters or {}), queryset).qs


def data_get(*, data_id: int) -> Data | None:
    try:
        return Data.objects.get(id=data_id)
    except Data.DoesNotExist:
        return None


def feedback_summary() -> list[dict]:
    """Per model version (newest versions first: their names start with a UTC timestamp):
    feedback count, how many predictions were right, and their share."""
    rows = (
        Feedback.objects.values("model_version")
        .annotate(count=Count("id"), correct=Count("id", filter=Q(correct=True)))
        .order_by("-model_version")
    )
    return [{**row, "accuracy": row["correct"] / row["count"]} for row in rows]
