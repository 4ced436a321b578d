"""Strict building blocks for input serializers: exact strings, no unknown fields."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common.validators import ProhibitSurrogateCharacters, validate_not_blank


class StrictCharField(serializers.CharField):
    """A required, non-blank JSON string, kept exactly as sent.

    DRF's CharField coerces numbers to strings and trims whitespace; here a number is a
    type error and the value is never altered (RTL marks, leading spaces and emoji survive).
    NUL and lone surrogate characters are rejected by CharField's own validators.
    """

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [
            ProhibitSurrogateCharacters()
            if type(validator) is ProhibitSurrogateCharactersValidator
            else validator
            for validator in self.validators
        ]
        if not self.allow_blank:
            self.validators.append(validate_not_blank)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: DRF's IntegerField also takes "5", 5.0 and true (as 1)."""

    default_error_messages = {"invalid": "A valid integer is required."}

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not declare, so a typo ("lable") is a 400, not silently dropped."""

    def to_internal_value(self, data):
        unknown = (
            sorted(str(key) for key in data if key not in self.fields)
            if isinstance(data, Mapping)
            else []
        )
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not unknown or not isinstance(exc.detail, dict):
                raise
            errors = exc.detail
        else:
            if not unknown:
                return value
            errors = {}
        errors.update({key: ["Unknown field."] for key in unknown})
        raise serializers.ValidationError(errors)
