from django.contrib.postgres.indexes import GinIndex
from django.db import connection, models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from common.validators import validate_not_blank
from data import lookups  # noqa: F401 (registers text__ilike_contains)

LABEL_MAX_LENGTH = 100


class DataQuerySet(models.QuerySet):
    def count(self) -> int:
        """Exact, like count(*); for the whole table it reads the trigger-kept row count
        (migration 0003) instead of scanning a million index entries."""
        if self._result_cache is None and _is_whole_table(self.query):
            with connection.cursor() as cursor:
                cursor.execute("SELECT n FROM data_row_count")
                return cursor.fetchone()[0]
        return super().count()


def _is_whole_table(query) -> bool:
    return (
        not query.where
        and query.low_mark == 0
        and query.high_mark is None
        and not query.distinct
        and not query.combinator
    )


class Data(models.Model):
    """One labelled text: the training corpus of the classifier.

    The algorithm service reads this table directly (`SELECT text, label FROM data ORDER BY
    id`), so its invariants live in the database too, not only in the API's validation.
    """

    text = models.TextField(validators=[validate_not_blank])
    label = models.CharField(max_length=LABEL_MAX_LENGTH, validators=[validate_not_blank])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DataQuerySet.as_manager()

    class Meta:
        db_table = "data"
        verbose_name = "labelled text"
        indexes = [
            models.Index(fields=["label"], name="data_label_idx"),
            # ?search= (`text ILIKE '%...%'`, data.lookups) without reading every row.
            GinIndex(fields=["text"], opclasses=["gin_trgm_ops"], name="data_text_trgm_idx"),
        ]
        constraints = [
            # Postgres's \S: at least one non-whitespace character.
            models.CheckConstraint(
                condition=models.Q(text__regex=r"\S"), name="data_text_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(label__regex=r"\S"), name="data_label_not_blank"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("label"), LABEL_MAX_LENGTH),
                name="data_label_max_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"
