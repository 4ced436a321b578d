from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import schema  # noqa: F401 - registers the token scheme with drf-spectacular
from accounts.authentication import OutageTolerantTokenAuthentication
from accounts.models import ApiToken
from accounts.policies import Action, allows, ml_action, permission_for
from accounts.selectors import token_list
from accounts.serializers import (
    TokenCreatedSerializer,
    TokenCreateInputSerializer,
    TokenObtainInputSerializer,
    TokenOutputSerializer,
)
from accounts.services import api_token_obtain, token_create, token_revoke
from common.schema import AUTHENTICATED_ERRORS, error_responses
from common.throttling import LOGIN_THROTTLES, ThrottledForAuthRequest


class TokenObtainApi(APIView):
    """POST {"username", "password"} -> {"token"}: a new token named "login"; wrong credentials
    -> 400. Throttled per client and per username before the password is checked."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = LOGIN_THROTTLES
    serializer_class = TokenObtainInputSerializer

    @extend_schema(
        summary="Log in: a new API token",
        request=TokenObtainInputSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **error_responses(400, 413, 415, 429),
        },
    )
    def post(self, request: Request) -> Response:
        credentials = TokenObtainInputSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        _, key = api_token_obtain(**credentials.validated_data)
        return Response({"token": key})


class TokensApi(APIView):
    """GET: the caller's own tokens (never a key). POST {"name", "expires_in"?}: a new token,
    its key shown this once."""

    permission_classes = [permission_for(Action.MANAGE_OWN_TOKENS)]
    serializer_class = TokenCreateInputSerializer

    @extend_schema(
        operation_id="auth_tokens_list",
        summary="Your API tokens (without their keys)",
        responses={200: TokenOutputSerializer(many=True), **error_responses(*AUTHENTICATED_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        return Response(TokenOutputSerializer(token_list(user=request.user), many=True).data)

    @extend_schema(
        operation_id="auth_tokens_create",
        summary="Create a named API token, optionally expiring",
        request=TokenCreateInputSerializer,
        responses={
            201: TokenCreatedSerializer,
            **error_responses(400, 413, 415, *AUTHENTICATED_ERRORS),
        },
    )
    def post(self, request: Request) -> Response:
        payload = TokenCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        seconds = payload.validated_data.get("expires_in")
        caller_token = request.auth if isinstance(request.auth, ApiToken) else None
        token, key = token_create(
            user=request.user,
            name=payload.validated_data["name"],
            expires_in=None if seconds is None else timedelta(seconds=seconds),
            not_after=caller_token.expiry if caller_token else None,
        )
        body = {**TokenOutputSerializer(token).data, "token": key}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    permission_classes = [permission_for(Action.MANAGE_OWN_TOKENS)]

    @extend_schema(
        operation_id="auth_tokens_destroy",
        summary="Revoke one of your tokens",
        parameters=[OpenApiParameter("token_id", int, OpenApiParameter.PATH)],
        responses={204: None, **error_responses(404, *AUTHENTICATED_ERRORS)},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _MayUseMlRoute(BasePermission):
    message = "This token may not use this route of the ML API."

    def has_permission(self, request, view) -> bool:
        action = ml_action(
            request.headers.get("X-Original-Method", ""),
            request.headers.get("X-Original-URI", ""),
        )
        return action is not None and allows(action, request.user)


class AuthCheckApi(APIView):
    """nginx's auth_request for /ml/: 204 when the token (or no token) may use the original
    route (X-Original-Method, X-Original-URI) under accounts.policies, 401 without a valid
    token, 403 when the token's user may not; routes outside the table are refused. Throttled
    like any view, but a throttled call is a 403 with Retry-After (ThrottledForAuthRequest).

    Token only (no session, so no CSRF check), and every method answers the same, because
    nginx's subrequest may carry the method of the request it guards.
    """

    authentication_classes = [OutageTolerantTokenAuthentication]
    permission_classes = [_MayUseMlRoute]

    def throttled(self, request: Request, wait: float | None) -> None:
        raise ThrottledForAuthRequest(wait)

    @extend_schema(
        summary="Check a token for an /ml/ route (nginx auth_request)",
        request=None,
        responses={204: None, **error_responses(*AUTHENTICATED_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        # nginx hands the name on to the ML API as X-Actor: who changed a model's stage.
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={"X-Auth-User": request.user.get_username()}
            if request.user.is_authenticated
            else None,
        )

    post = put = patch = delete = get
