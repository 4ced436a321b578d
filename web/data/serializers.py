from datetime import UTC, datetime

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.serializers import StrictCharField, StrictSerializer
from common.validators import MaxLengthFromSetting
from data.models import LABEL_MAX_LENGTH, Data
from gateway.converters import VERSION_RE

SEARCH_MIN_LENGTH = 3


class DataInputSerializer(StrictSerializer):
    """One item to create or update: exactly `text` and `label`, both stored as sent."""

    text = StrictCharField(validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")])
    label = StrictCharField(max_length=LABEL_MAX_LENGTH)


class DataOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Data
        fields = (
            "id",
            "text",
            "label",
            "created_at",
            "updated_at",
            "source",
            "created_by",
            "verified",
        )
        read_only_fields = fields
        extra_kwargs = {
            "source": {"help_text": "imported (file or bulk), entered (one row), or feedback."},
            "created_by": {"help_text": "The id of the user who added the row, if known."},
            "verified": {
                "help_text": "Trusted for training (TRAIN_VERIFIED_ONLY); feedback starts false."
            },
        }

    def to_representation(self, instance: Data) -> dict:
        """The same output as DRF's field-by-field path (a test holds them equal), a few times
        faster: bulk inserts and big pages return 1,000 rows."""
        return {
            "id": instance.id,
            "text": instance.text,
            "label": instance.label,
            "created_at": _utc_timestamp(instance.created_at),
            "updated_at": _utc_timestamp(instance.updated_at),
            "source": instance.source,
            "created_by": instance.created_by_id,
            "verified": instance.verified,
        }


def _utc_timestamp(value: datetime) -> str:
    """DRF's DateTimeField output with USE_TZ and TIME_ZONE = "UTC": ISO 8601, "Z" suffix."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class DataFilterSerializer(serializers.Serializer):
    """Query parameters of the list: validated so that e.g. a NUL byte is a 400, not a 500."""

    label = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=LABEL_MAX_LENGTH
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        # pg_trgm looks a substring up by its 3-character pieces: a shorter one would read
        # the whole table (data.lookups).
        min_length=SEARCH_MIN_LENGTH,
        error_messages={
            "min_length": f"A search needs at least {SEARCH_MIN_LENGTH} characters (or none)."
        },
        validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")],
    )


@extend_schema_serializer(many=False)  # already a page: not to be wrapped in another one
class DataPageSerializer(serializers.Serializer):
    """One page of the list, for the OpenAPI schema (the paginators build the real body)."""

    count = serializers.IntegerField(
        required=False, help_text="Rows matching the filters; page mode only (not with cursor)."
    )
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = DataOutputSerializer(many=True)


class DataImportInputSerializer(StrictSerializer):
    """The multipart form of POST /api/data/import/: one file, nothing else."""

    file = serializers.FileField(
        allow_empty_file=False,
        help_text="A .csv (UTF-8, with or without BOM) or .xlsx file whose first row names the "
        "columns `text` and `label`.",
    )


class DataImportOptionsSerializer(serializers.Serializer):
    partial = serializers.BooleanField(
        default=False,
        help_text="false (default): all or nothing, a single invalid row saves nothing. "
        "true: save the valid rows and report the others.",
    )


class DataImportResultSerializer(serializers.Serializer):
    """The answer of an import, for the OpenAPI schema (the view builds the body)."""

    rows = serializers.IntegerField(help_text="Data rows read (blank rows not counted).")
    created = serializers.IntegerField(help_text="Rows saved.")
    rejected = serializers.IntegerField(help_text="Invalid rows (not saved).")
    blank_rows = serializers.IntegerField(help_text="Rows with every cell empty, skipped.")
    ignored_columns = serializers.ListField(
        child=serializers.CharField(), help_text="Header names other than text and label."
    )
    errors = serializers.DictField(
        help_text="Row number (the header is row 1) -> field -> messages, for invalid rows."
    )


class DataImportRejectedSerializer(serializers.Serializer):
    """A 400 of an import: `detail` always; the counts when rows were read and found invalid."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        required=False,
        help_text="Row number (the header is row 1) -> field -> messages; for form errors, "
        "field -> messages.",
    )
    rows = serializers.IntegerField(required=False)
    created = serializers.IntegerField(required=False, help_text="0: nothing was saved.")
    rejected = serializers.IntegerField(required=False)
    blank_rows = serializers.IntegerField(required=False)
    ignored_columns = serializers.ListField(child=serializers.CharField(), required=False)


class FeedbackInputSerializer(StrictSerializer):
    """The true label of a text a model version labelled `predicted_label`."""

    text = StrictCharField(validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")])
    predicted_label = StrictCharField(max_length=LABEL_MAX_LENGTH)
    model_version = StrictCharField(
        validators=[RegexValidator(VERSION_RE, "Not a model version.")],
        help_text="The version that answered (`model_version` of the prediction).",
    )
    true_label = StrictCharField(max_length=LABEL_MAX_LENGTH)


class FeedbackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The feedback record's id.")
    data = DataOutputSerializer(help_text="The labelled row it added (source feedback).")
    predicted_label = serializers.CharField()
    model_version = serializers.CharField()
    correct = serializers.BooleanField(help_text="predicted_label == true_label.")
    created_at = serializers.DateTimeField()


class FeedbackVersionSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    count = serializers.IntegerField(help_text="Feedback records for this version.")
    correct = serializers.IntegerField(help_text="Of which the prediction was right.")
    accuracy = serializers.FloatField(help_text="correct / count.")


class FeedbackSummarySerializer(serializers.Serializer):
    results = FeedbackVersionSerializer(many=True)
