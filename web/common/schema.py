"""OpenAPI building blocks shared by the API's views (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (see common.errors)."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        required=False, help_text="Field (or bulk item index) -> messages, for invalid input."
    )


_DESCRIPTIONS = {
    400: "Invalid input: `detail` summarises, `errors` lists each field's messages.",
    401: "No token, or an invalid one (`Authorization: Token <key>`).",
    403: "The token's user lacks the role (staff) this action needs.",
    404: "Not found.",
    409: "Conflict.",
    413: "The request body is larger than the service accepts.",
    415: "The body is not JSON (`Content-Type: application/json`).",
    429: "Too many requests for this token (or client); see `Retry-After` and `X-RateLimit-*`.",
    503: "A dependency (database or ML service) is unavailable; retry shortly.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in codes
    }


# What every authenticated endpoint can answer besides its own results.
AUTHENTICATED_ERRORS = (401, 429)


class StrictSerializerExtension(OpenApiSerializerExtension):
    """A StrictSerializer rejects keys it does not declare: say so in the schema."""

    target_class = "common.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema
