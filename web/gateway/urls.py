from django.urls import path, register_converter

from gateway.apis import (
    ModelActivateApi,
    ModelDetailApi,
    ModelPromoteApi,
    ModelRollbackApi,
    ModelsApi,
    ModelStageChangesApi,
    PredictApi,
    TrainApi,
    TrainJobApi,
)
from gateway.converters import ModelVersionConverter

register_converter(ModelVersionConverter, "model_version")

urlpatterns = [
    path("train/", TrainApi.as_view(), name="train"),
    path("train/<uuid:job_id>/", TrainJobApi.as_view(), name="train-job"),
    path("predict/", PredictApi.as_view(), name="predict"),
    path("models/", ModelsApi.as_view(), name="models"),
    # Before the version pattern, which would also match "stage-changes".
    path("models/stage-changes/", ModelStageChangesApi.as_view(), name="model-stage-changes"),
    path("models/<model_version:version>/", ModelDetailApi.as_view(), name="model-detail"),
    path(
        "models/<model_version:version>/activate/",
        ModelActivateApi.as_view(),
        name="model-activate",
    ),
    path(
        "models/<model_version:version>/promote/",
        ModelPromoteApi.as_view(),
        name="model-promote",
    ),
    path(
        "models/<model_version:version>/rollback/",
        ModelRollbackApi.as_view(),
        name="model-rollback",
    ),
]
