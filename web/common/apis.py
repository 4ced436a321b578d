"""Health endpoints for container healthchecks and load balancers: no token, no throttling."""

import functools

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policies import Action, permission_for
from common.health import database_status


class _HealthApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


_LIVE = inline_serializer("HealthLive", {"status": serializers.CharField()})
_READY = inline_serializer(
    "HealthReady", {"status": serializers.CharField(), "database": serializers.CharField()}
)
_NOT_READY = inline_serializer(
    "HealthNotReady",
    {
        "status": serializers.CharField(),
        "database": serializers.CharField(),
        "detail": serializers.CharField(),
    },
)
_READY_RESPONSES = {
    200: _READY,
    503: OpenApiResponse(_NOT_READY, description="The database does not answer."),
}


class HealthLiveApi(_HealthApi):
    """Liveness: the process answers HTTP. No database round trip, so a database outage
    never gets the web container restarted."""

    @extend_schema(summary="Liveness", responses={200: _LIVE})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class HealthReadyApi(_HealthApi):
    """Readiness: the database answers too. 503 with the reason while it does not."""

    @extend_schema(summary="Readiness (database reachable)", responses=_READY_RESPONSES)
    def get(self, request: Request) -> Response:
        database = database_status()
        if database != "ok":
            return Response(
                {
                    "status": "unavailable",
                    "database": database,
                    "detail": "The database is unavailable; try again shortly.",
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": database})


class SchemaApi(SpectacularAPIView):
    """The OpenAPI schema, public (the docs pages load it before any token is entered).

    It depends only on the code, so each process builds it once instead of walking every
    view for every anonymous caller. The API has no versions: `?version=` is not a cache key.
    """

    permission_classes = [permission_for(Action.READ_API_DOCS)]

    def _get_schema_response(self, request: Request) -> Response:
        return Response(
            data=_schema(),
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, None)}"'
            },
        )


@functools.cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


# The docs pages may load and call only their own origin. The bundles' files are served here
# (drf-spectacular-sidecar); Redoc's sidebar still asks a CDN for its vendor's logo, which this
# blocks. Inline script and styles: drf-spectacular's Swagger page and both UIs use them; Redoc
# runs its search in a worker made from a blob. nginx adds its own frame-ancestors policy;
# a browser enforces both.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
    ]
)


class _SameOriginOnly:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SwaggerDocsApi(_SameOriginOnly, SpectacularSwaggerView):
    """Swagger UI on the schema, from the sidecar's static files."""

    permission_classes = [permission_for(Action.READ_API_DOCS)]

    url_name = "schema"


class RedocDocsApi(_SameOriginOnly, SpectacularRedocView):
    """Redoc on the schema, without the Google Fonts links of drf-spectacular's template."""

    permission_classes = [permission_for(Action.READ_API_DOCS)]

    url_name = "schema"
    template_name = "api_docs/redoc.html"
