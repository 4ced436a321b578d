from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from common.apis import HealthLiveApi, HealthReadyApi, SchemaApi

api_urlpatterns = [
    path("health/", HealthReadyApi.as_view(), name="health"),
    path("health/live", HealthLiveApi.as_view(), name="health-live"),
    path("health/ready", HealthReadyApi.as_view(), name="health-ready"),
    path("auth/", include("accounts.urls")),
    # JSON first, like every other endpoint (errors included); ?format=yaml still works.
    path(
        "schema/",
        SchemaApi.as_view(renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer]),
        name="schema",
    ),
    # Swagger UI and Redoc from the sidecar's static files: nothing loaded from outside.
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="api-redoc",
    ),
    path("", include("data.urls")),
    path("", include("gateway.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
]

handler400 = "common.error_views.bad_request"
handler403 = "common.error_views.permission_denied"
handler404 = "common.error_views.page_not_found"
handler500 = "common.error_views.server_error"
