from common.serializers import StrictCharField, StrictSerializer


class TokenObtainInputSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, style={"input_type": "password"})
