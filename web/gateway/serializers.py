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


class TrainListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)
