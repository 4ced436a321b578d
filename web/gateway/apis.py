"""Public train/predict/models endpoints: validate, call the ML service, relay its answer.

ML service failures surface as exceptions from the client and are mapped to responses by the
API exception handler (503 when unavailable, its own 4xx passed through).
"""

from collections.abc import Mapping
from uuid import UUID

from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.serializers import PredictInputSerializer, TrainListQuerySerializer
from integrations.ml_service.client import MLResponse, get_ml_client


def _relay(result: MLResponse) -> Response:
    return Response(result.body, status=result.status_code)


class TrainApi(APIView):
    """GET: recent training jobs (any user). POST (staff only, no body): queue a training job."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsAdminUser()]
        return super().get_permissions()

    def get(self, request: Request) -> Response:
        query = TrainListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return _relay(get_ml_client().list_jobs(limit=query.validated_data.get("limit")))

    def post(self, request: Request) -> Response:
        if not (isinstance(request.data, Mapping) and not request.data):
            raise ValidationError("POST /api/train/ takes no body (or an empty JSON object).")
        return _relay(get_ml_client().train())


class TrainJobApi(APIView):
    """One training job; a malformed id never matches the URL, an unknown one is the ML 404."""

    def get(self, request: Request, job_id: UUID) -> Response:
        return _relay(get_ml_client().get_job(str(job_id)))


class PredictApi(APIView):
    serializer_class = PredictInputSerializer

    def post(self, request: Request) -> Response:
        payload = PredictInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return _relay(get_ml_client().predict(dict(payload.validated_data)))


class ModelsApi(APIView):
    def get(self, request: Request) -> Response:
        return _relay(get_ml_client().list_models())
