from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer

from accounts.views import admin_login
from common.apis import HealthLiveApi, HealthReadyApi, RedocDocsApi, SchemaApi, SwaggerDocsApi
from gateway.apis import PredictEdgeCheckApi

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
    path("docs/", SwaggerDocsApi.as_view(), name="api-docs"),
    path("redoc/", RedocDocsApi.as_view(), name="api-redoc"),
    path("", include("data.urls")),
    path("", include("gateway.urls")),
]

urlpatterns = [
    # Before the admin's own URLs: the same view, throttled before the password is checked.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    # nginx's token check for POST /api/predict/; no public route leads here.
    path("edge/predict-check/", PredictEdgeCheckApi.as_view(), name="edge-predict-check"),
]

handler400 = "common.error_views.bad_request"
handler403 = "common.error_views.permission_denied"
handler404 = "common.error_views.page_not_found"
handler500 = "common.error_views.server_error"
