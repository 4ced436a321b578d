from django.urls import include, path

from accounts.apis import AuthCheckApi, TokenObtainApi

urlpatterns = [
    path("token/", TokenObtainApi.as_view(), name="auth-token"),
    path("check/", AuthCheckApi.as_view(), name="auth-check"),
    # Session login/logout for the browsable API.
    path("", include("rest_framework.urls")),
]
