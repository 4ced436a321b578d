"""Public train/predict/models endpoints: validate, call the ML service, relay its answer.

ML service failures surface as exceptions from the client and are mapped to responses by the
API exception handler (503 when unavailable, its own 4xx passed through).
"""

from collections.abc import Mapping
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from textclf_ops.throttle import EDGE_BUDGET_HEADER, UNTHROTTLED

from accounts.authentication import OutageTolerantTokenAuthentication
from accounts.policies import Action, permission_for
from common.schema import AUTHENTICATED_ERRORS, ErrorSerializer, error_responses
from common.throttling import user_budget
from gateway import predict_short_path as short_path
from gateway.converters import VERSION_RE
from gateway.serializers import (
    ModelActivatedSerializer,
    ModelDetailSerializer,
    ModelListSerializer,
    PredictInputSerializer,
    PredictManySerializer,
    PredictOneSerializer,
    PredictTextInputSerializer,
    PredictTextsInputSerializer,
    StageChangeInputSerializer,
    StageChangeListSerializer,
    StageChangeQuerySerializer,
    TrainConflictSerializer,
    TrainingJobListSerializer,
    TrainingJobSerializer,
    TrainInputSerializer,
    TrainListQuerySerializer,
    TrainQueuedSerializer,
)
from integrations.ml_service.client import MLResponse, get_ml_client

# Every gateway call may find the ML service down (503).
_ERRORS = (*AUTHENTICATED_ERRORS, 503)


def _relay(result: MLResponse) -> Response:
    return Response(result.body, status=result.status_code)


class TrainApi(APIView):
    """GET: recent training jobs (any user). POST (staff only, no body): queue a training job."""

    permission_classes = [
        permission_for(Action.READ_TRAINING_JOBS, POST=Action.START_TRAINING),
    ]

    @extend_schema(
        operation_id="train_list",
        summary="Recent training jobs, newest first",
        parameters=[TrainListQuerySerializer],
        responses={200: TrainingJobListSerializer, **error_responses(400, *_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        # A plain dict: from a QueryDict DRF would read "?limit=" as "no limit".
        query = TrainListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return _relay(get_ml_client().list_jobs(limit=query.validated_data.get("limit")))

    @extend_schema(
        operation_id="train_create",
        summary="Start training a new model (staff only)",
        description='No body, `{}` or `{"force": true}`. At most one job is queued or '
        "running at a time. The new model is a candidate; the promotion gate makes it "
        "production (the job's `outcome`: promoted or candidate, `note`: why). When the data "
        "has not changed since the production model was trained, the job succeeds with "
        "`outcome: skipped` and trains nothing, unless `force` is true.",
        request=TrainInputSerializer,
        responses={
            202: TrainQueuedSerializer,
            409: OpenApiResponse(TrainConflictSerializer, description="A job is already active."),
            **error_responses(400, 403, 413, 415, *_ERRORS),
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            raise ValidationError("POST /api/train/ takes no body, or a JSON object.")
        payload = TrainInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return _relay(get_ml_client().train(force=payload.validated_data["force"]))


class TrainJobApi(APIView):
    """One training job; a malformed id never matches the URL, an unknown one is the ML 404."""

    permission_classes = [permission_for(Action.READ_TRAINING_JOBS)]

    @extend_schema(
        operation_id="train_job_retrieve",
        summary="One training job",
        responses={200: TrainingJobSerializer, **error_responses(404, *_ERRORS)},
    )
    def get(self, request: Request, job_id: UUID) -> Response:
        return _relay(get_ml_client().get_job(str(job_id)))


class PredictApi(APIView):
    """The hot path of every client. A call that the short path (gateway.predict_short_path)
    recognises as a plain token-authenticated single-text prediction is answered there, with
    the same authentication, rule, throttles and error handling but without DRF's request
    wrapping, content negotiation and serializer; every other call, and every call that would
    fail before the throttle counts it, goes through DRF as it always did."""

    permission_classes = [permission_for(Action.PREDICT)]
    serializer_class = PredictInputSerializer

    def dispatch(self, request, *args, **kwargs):
        answer = short_path.answer(self, request, args, kwargs)
        if answer is not None:
            return answer
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        operation_id="predict",
        summary="Predict the label of one text, or of a batch",
        description="Every prediction says how much of its text the model knew "
        "(`known_token_share`) and flags a text with no known term (`unknown`: its label is "
        "the model's prior; null when PREDICT_REFUSE_UNKNOWN is set). With `explain: k` "
        "(1-20), each prediction also lists the k terms that weighed most on its label's "
        "decision score; 409 if the served model cannot explain (CLASSIFIER=svc).",
        request=PolymorphicProxySerializer(
            component_name="PredictInput",
            serializers=[PredictTextInputSerializer, PredictTextsInputSerializer],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="PredictResponse",
                serializers=[PredictOneSerializer, PredictManySerializer],
                resource_type_field_name=None,
                many=False,
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="No model has been trained yet, or the model cannot explain.",
            ),
            **error_responses(400, 413, 415, *_ERRORS),
        },
    )
    def post(self, request: Request) -> Response:
        payload = PredictInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = get_ml_client().predict(dict(payload.validated_data))
        # Relayed as received: re-encoding a large batch's probabilities costs web real CPU
        # (BENCHMARKS.md, "History").
        return HttpResponse(
            result.content, status=result.status_code, content_type="application/json"
        )


class PredictEdgeCheckApi(APIView):
    """nginx's auth_request for POST /api/predict/, which nginx sends straight to the ML API
    (nginx/templates/servers/app.conf) and caches for at most TOKEN_CACHE_SECONDS per token, as
    each web process caches a verified token: 204 when the token may predict, with the
    caller's per-token budget (X-Edge-Budget: counter, requests, window; `none` when
    unthrottled), which the ML API counts in web's own counters. 401 or 403 otherwise, and
    nginx then hands the call to PredictApi, which answers it with its own rules and messages.

    Outside /api/: nginx serves no route to it, only its subrequest reaches it. Not throttled
    itself: what it checks is counted where the call is answered.
    """

    authentication_classes = [OutageTolerantTokenAuthentication]
    permission_classes = [permission_for(Action.PREDICT)]
    throttle_classes = []

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        budget = user_budget(request, self)
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={EDGE_BUDGET_HEADER: budget.header() if budget else UNTHROTTLED},
        )

    # nginx's subrequest carries the original method; every method is checked as a prediction.
    get = put = patch = delete = post


class ModelsApi(APIView):
    permission_classes = [permission_for(Action.READ_MODELS)]

    @extend_schema(
        operation_id="models_list",
        summary="Kept model versions, newest first, and the current one",
        responses={200: ModelListSerializer, **error_responses(*_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        return _relay(get_ml_client().list_models())


class ModelDetailApi(APIView):
    """One kept version with its recipe choice and per-label quality; 404 if unknown."""

    permission_classes = [permission_for(Action.READ_MODELS)]

    @extend_schema(
        operation_id="model_retrieve",
        summary="One model version: recipes, per-label precision/recall/F1, confusion matrix",
        parameters=[OpenApiParameter("version", str, OpenApiParameter.PATH, pattern=VERSION_RE)],
        responses={200: ModelDetailSerializer, **error_responses(404, *_ERRORS)},
    )
    def get(self, request: Request, version: str) -> Response:
        return _relay(get_ml_client().get_model(version))


class ModelActivateApi(APIView):
    """Staff only: make a kept model version current again (no body).

    The ML service verifies the version and waits until its worker has switched `current`:
    200 {"current": version}, 404 for an unknown version, 409 for a version that fails its
    checksum or signature, 503 if it did not happen in time.
    """

    permission_classes = [permission_for(Action.ACTIVATE_MODEL)]

    @extend_schema(
        operation_id="model_activate",
        summary="Make a kept model version current (staff only)",
        parameters=[OpenApiParameter("version", str, OpenApiParameter.PATH, pattern=VERSION_RE)],
        request=None,
        responses={
            200: ModelActivatedSerializer,
            **error_responses(400, 403, 404, 409, 413, 415, *_ERRORS),
        },
    )
    def post(self, request: Request, version: str) -> Response:
        if not (isinstance(request.data, Mapping) and not request.data):
            raise ValidationError("This endpoint takes no body (or an empty JSON object).")
        return _relay(get_ml_client().activate_model(version, actor=request.user.get_username()))


_STAGE_CHANGE_RESPONSES = {
    200: ModelActivatedSerializer,
    409: OpenApiResponse(
        ErrorSerializer, description="The version is in another stage, or does not verify."
    ),
    **error_responses(400, 403, 404, 413, 415, *_ERRORS),
}


def _change_stage(request: Request, version: str, change) -> Response:
    """A staff stage change: the reason validated here, the user's name sent as the actor."""
    payload = StageChangeInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return _relay(
        change(version, reason=payload.validated_data["reason"], actor=request.user.get_username())
    )


class ModelPromoteApi(APIView):
    """Staff only: make a candidate production, with a reason (recorded with the user)."""

    permission_classes = [permission_for(Action.PROMOTE_MODEL)]

    @extend_schema(
        operation_id="model_promote",
        summary="Promote a candidate model to production (staff only)",
        description="The previous production version is archived; both changes are recorded "
        "(who, when, from, to, why). 409 unless the version is a candidate.",
        parameters=[OpenApiParameter("version", str, OpenApiParameter.PATH, pattern=VERSION_RE)],
        request=StageChangeInputSerializer,
        responses=_STAGE_CHANGE_RESPONSES,
    )
    def post(self, request: Request, version: str) -> Response:
        return _change_stage(request, version, get_ml_client().promote_model)


class ModelRollbackApi(APIView):
    """Staff only: make a kept archived version production again, with a reason."""

    permission_classes = [permission_for(Action.ROLLBACK_MODEL)]

    @extend_schema(
        operation_id="model_rollback",
        summary="Roll production back to a kept archived version (staff only)",
        description="The production version is archived; both changes are recorded (who, "
        "when, from, to, why). 409 unless the version is archived.",
        parameters=[OpenApiParameter("version", str, OpenApiParameter.PATH, pattern=VERSION_RE)],
        request=StageChangeInputSerializer,
        responses=_STAGE_CHANGE_RESPONSES,
    )
    def post(self, request: Request, version: str) -> Response:
        return _change_stage(request, version, get_ml_client().rollback_model)


class ModelStageChangesApi(APIView):
    """Every stage change of every kept or pruned version, newest first."""

    permission_classes = [permission_for(Action.READ_MODELS)]

    @extend_schema(
        operation_id="model_stage_changes",
        summary="Model stage changes: who, when, which version, from and to, why",
        parameters=[StageChangeQuerySerializer],
        responses={200: StageChangeListSerializer, **error_responses(400, *_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        query = StageChangeQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return _relay(get_ml_client().list_stage_changes(**query.validated_data))
