"""URLs for the Sentry test: one view that fails the way a bug would."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class ProbeError(Exception):
    """Raised by the view; its name is what the Sentry event must report."""


class RaisingApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise ProbeError("raised on purpose by the Sentry test")

    def post(self, request):
        # The text sits in a local variable and in the parsed body when the error happens.
        text = request.data["text"]
        raise ProbeError(f"raised on purpose with a text of {len(text)} characters")


urlpatterns = [path("api/boom/", RaisingApi.as_view())]
