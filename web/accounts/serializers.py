from rest_framework import serializers

from accounts.models import ApiToken
from common.serializers import StrictCharField, StrictSerializer

# Ten years: a bound that keeps the expiry a valid date.
EXPIRES_IN_MAX_SECONDS = 10 * 365 * 24 * 3600


class TokenObtainInputSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, style={"input_type": "password"})


class TokenCreateInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    expires_in = serializers.IntegerField(
        min_value=1,
        max_value=EXPIRES_IN_MAX_SECONDS,
        required=False,
        allow_null=True,
        help_text="Seconds until the token stops working; omitted or null: no expiry.",
    )


class TokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expiry"]
        read_only_fields = fields


class TokenCreatedSerializer(TokenOutputSerializer):
    token = serializers.CharField(help_text="The key: shown this once, never stored.")

    class Meta(TokenOutputSerializer.Meta):
        fields = [*TokenOutputSerializer.Meta.fields, "token"]
        read_only_fields = fields
