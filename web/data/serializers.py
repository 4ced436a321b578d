from rest_framework import serializers

from common.serializers import StrictCharField, StrictSerializer
from common.validators import MaxLengthFromSetting
from data.models import LABEL_MAX_LENGTH, Data


class DataInputSerializer(StrictSerializer):
    """One item to create or update: exactly `text` and `label`, both stored as sent."""

    text = StrictCharField(validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")])
    label = StrictCharField(max_length=LABEL_MAX_LENGTH)


class DataOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Data
        fields = ("id", "text", "label", "created_at", "updated_at")


class DataFilterSerializer(serializers.Serializer):
    """Query parameters of the list: validated so that e.g. a NUL byte is a 400, not a 500."""

    label = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=LABEL_MAX_LENGTH
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")],
    )
