"""The gateway validates with the ML service's own rules, so bad input never crosses the hop."""

from rest_framework import serializers

from common.serializers import StrictCharField, StrictSerializer
from common.validators import MaxLengthFromSetting


def _text_field() -> StrictCharField:
    return StrictCharField(validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")])


class PredictInputSerializer(StrictSerializer):
    """Exactly one of {"text": "..."} or {"texts": ["...", ...]} (1..PREDICT_BATCH_MAX)."""

    text = _text_field()
    texts = serializers.ListField(
        child=_text_field(),
        allow_empty=False,
        validators=[MaxLengthFromSetting("PREDICT_BATCH_MAX", unit="elements")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False
        self.fields["texts"].required = False

    def validate(self, attrs):
        if ("text" in attrs) == ("texts" in attrs):
            raise serializers.ValidationError("Provide exactly one of 'text' or 'texts'.")
        return attrs


class PredictTextInputSerializer(StrictSerializer):
    """For the OpenAPI schema: the single-text form of PredictInputSerializer."""

    text = _text_field()


class PredictTextsInputSerializer(StrictSerializer):
    """For the OpenAPI schema: the batch form of PredictInputSerializer."""

    texts = serializers.ListField(child=_text_field(), min_length=1)


class TrainListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)


# --- What the ML service answers (relayed as-is); for the OpenAPI schema only. ---------------


class TrainQueuedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()


class TrainConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    job_id = serializers.UUIDField(help_text="The job that is already queued or running.")


class TrainingProgressSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(
        ["reading_rows", "fitting", "evaluating", "publishing"],
        help_text="fitting comes twice: the held-out model (done 0 of 2), evaluating, then the "
        "final model on every row (done 1 of 2).",
    )
    done = serializers.IntegerField(
        allow_null=True, help_text="Rows read, or models fitted; null where nothing is counted."
    )
    total = serializers.IntegerField(
        allow_null=True, help_text="Rows to read, or models to fit (2); null with done."
    )
    updated_at = serializers.DateTimeField()


class TrainingJobSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(["queued", "running", "succeeded", "failed"])
    error = serializers.CharField(allow_null=True)
    model_version = serializers.CharField(allow_null=True)
    metrics = serializers.DictField(allow_null=True)
    n_samples = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField(help_text="Deliveries so far (a lost worker is retried).")
    stats = serializers.DictField(
        allow_null=True, help_text="Peak RSS and seconds spent reading, fitting and publishing."
    )
    progress = TrainingProgressSerializer(
        allow_null=True,
        help_text="Where the run is, updated about once a second: null until a worker starts "
        "the job; a finished job keeps its last one (where it stopped).",
    )


class TrainingJobListSerializer(serializers.Serializer):
    results = TrainingJobSerializer(many=True)


class PredictionSerializer(serializers.Serializer):
    label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())


class PredictOneSerializer(PredictionSerializer):
    model_version = serializers.CharField()


class PredictManySerializer(serializers.Serializer):
    predictions = PredictionSerializer(many=True)
    model_version = serializers.CharField()


class ModelVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    created_at = serializers.DateTimeField()
    n_samples = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField()
    parameters = serializers.DictField()
    current = serializers.BooleanField()


class ModelListSerializer(serializers.Serializer):
    current = serializers.CharField(allow_null=True)
    results = ModelVersionSerializer(many=True)


class ModelActivatedSerializer(serializers.Serializer):
    current = serializers.CharField()
