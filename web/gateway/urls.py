from django.urls import path

from gateway.apis import ModelsApi, PredictApi, TrainApi, TrainJobApi

urlpatterns = [
    path("train/", TrainApi.as_view(), name="train"),
    path("train/<uuid:job_id>/", TrainJobApi.as_view(), name="train-job"),
    path("predict/", PredictApi.as_view(), name="predict"),
    path("models/", ModelsApi.as_view(), name="models"),
]
