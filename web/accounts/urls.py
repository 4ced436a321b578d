from django.urls import include, path

from accounts.apis import AuthCheckApi, TokenApi, TokenObtainApi, TokensApi
from accounts.views import api_session_login

urlpatterns = [
    path("token/", TokenObtainApi.as_view(), name="auth-token"),
    path("tokens/", TokensApi.as_view(), name="auth-tokens"),
    path("tokens/<int:token_id>/", TokenApi.as_view(), name="auth-token-detail"),
    path("check/", AuthCheckApi.as_view(), name="auth-check"),
    # Session login/logout for the browsable API; the login throttled like the token one.
    path("login/", api_session_login),
    path("", include("rest_framework.urls")),
]
