from rest_framework import status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import TokenObtainInputSerializer
from accounts.services import api_token_obtain


class TokenObtainApi(APIView):
    """POST {"username", "password"} -> {"token"}; wrong credentials -> 400."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenObtainInputSerializer

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

    authentication_classes = [TokenAuthentication]

    def get(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)

    post = put = patch = delete = get
