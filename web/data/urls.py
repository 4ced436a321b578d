from django.urls import path
from rest_framework.routers import SimpleRouter

from data.apis import DataImportApi, DataViewSet, FeedbackApi, FeedbackSummaryApi

router = SimpleRouter()
router.register("data", DataViewSet, basename="data")

urlpatterns = [
    path("data/import/", DataImportApi.as_view(), name="data-import"),
    path("feedback/", FeedbackApi.as_view(), name="feedback"),
    path("feedback/summary/", FeedbackSummaryApi.as_view(), name="feedback-summary"),
    *router.urls,
]
