from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import connection, models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from common.validators import validate_not_blank
from data import lookups  # noqa: F401 (registers text__ilike_contains)

LABEL_MAX_LENGTH = 100
MODEL_VERSION_MAX_LENGTH = 100  # gateway.converters.VERSION_RE


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


class Source(models.TextChoices):
    """Where a row came from; the database refuses anything else (data_source_valid)."""

    IMPORTED = "imported"  # a file import, a bulk POST, or rows older than provenance
    ENTERED = "entered"  # one row POSTed by a person
    FEEDBACK = "feedback"  # a client's correction of a prediction (POST /api/feedback/)


SOURCE_MAX_LENGTH = 16


class Data(models.Model):
    """One labelled text: the training corpus of the classifier.

    The algorithm service reads this table directly (`SELECT text, label FROM data ORDER BY
    id`), so its invariants live in the database too, not only in the API's validation.
    """

    text = models.TextField(validators=[validate_not_blank])
    label = models.CharField(max_length=LABEL_MAX_LENGTH, validators=[validate_not_blank])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Database defaults, not only Django's: a release that does not know these columns (during a
    # rolling deploy, or after a rollback) still inserts, as "imported" by nobody and verified.
    source = models.CharField(
        max_length=SOURCE_MAX_LENGTH, choices=Source.choices, db_default=Source.IMPORTED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # No index: nothing looks rows up by author, and a plain CREATE INDEX on a big `data`
        # would block writes during a deploy.
        db_index=False,
    )
    # TRAIN_VERIFIED_ONLY trains on verified rows only: feedback waits for staff to verify it.
    verified = models.BooleanField(db_default=True)
    # In the trigram index yet? A bulk insert leaves its rows out (false) and data.search_index
    # adds them behind it; a search reads those few directly (data.search_index.matching).
    # The database default indexes a row as it is written, as a release before this did.
    search_ready = models.BooleanField(db_default=True)

    objects = DataQuerySet.as_manager()

    class Meta:
        db_table = "data"
        verbose_name = "labelled text"
        indexes = [
            models.Index(fields=["label"], name="data_label_idx"),
            # ?search= (`text ILIKE '%...%'`, data.lookups) without reading every row: the
            # indexed rows through pg_trgm, the rows a bulk insert has just added through the
            # backlog's own small index (migration 0006, data.search_index).
            GinIndex(
                fields=["text"],
                opclasses=["gin_trgm_ops"],
                name="data_text_trgm_ready_idx",
                condition=models.Q(search_ready=True),
            ),
            models.Index(
                fields=["id"],
                name="data_search_backlog_idx",
                condition=models.Q(search_ready=False),
            ),
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
            models.CheckConstraint(
                condition=models.Q(source__in=Source.values), name="data_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"


class Feedback(models.Model):
    """A client's correction: which version predicted what for a text whose true label it
    learned. The text and true label are a `data` row (source feedback); this keeps the rest."""

    data = models.OneToOneField(Data, on_delete=models.CASCADE, related_name="feedback")
    predicted_label = models.CharField(max_length=LABEL_MAX_LENGTH)
    model_version = models.CharField(max_length=MODEL_VERSION_MAX_LENGTH)
    correct = models.BooleanField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "data_feedback"
        indexes = [models.Index(fields=["model_version"], name="data_feedback_version_idx")]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.predicted_label} -> {self.data_id}"
