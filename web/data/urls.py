from django.urls import path
from rest_framework.routers import SimpleRouter

from data.apis import DataImportApi, DataViewSet

router = SimpleRouter()
router.register("data", DataViewSet, basename="data")

urlpatterns = [
    path("data/import/", DataImportApi.as_view(), name="data-import"),
    *router.urls,
]
