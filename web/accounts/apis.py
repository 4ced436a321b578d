from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import OutageTolerantTokenAuthentication
from accounts.serializers import TokenObtainInputSerializer
from accounts.services import api_token_obtain
from common.schema import AUTHENTICATED_ERRORS, error_responses


class TokenObtainApi(APIView):
    """POST {"username", "password"} -> {"token"}; wrong credentials -> 400."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenObtainInputSerializer

    @extend_schema(
        summary="Obtain the API token of a user",
        request=TokenObtainInputSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **error_responses(400, 413, 415, 429),
        },
    )
    def post(self, request: Request) -> Response:
        credentials = TokenObtainInputSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        token = api_token_obtain(**credentials.validated_data)
        return Response({"token": token.key})


class AuthCheckApi(APIView):
    """204 for a valid token, 401 otherwise: nginx's auth_request for /ml/.

    Token only (no session, so no CSRF check), and every method answers the same, because
    nginx's subrequest may carry the method of the request it guards.
    """

    authentication_classes = [OutageTolerantTokenAuthentication]

    @extend_schema(
        summary="Check a token (nginx auth_request)",
        request=None,
        responses={204: None, **error_responses(*AUTHENTICATED_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)

    post = put = patch = delete = get
