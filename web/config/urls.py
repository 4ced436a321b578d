from django.contrib import admin
from django.urls import include, path

from common.apis import HealthApi

api_urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("auth/", include("accounts.urls")),
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
