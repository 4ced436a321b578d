import time

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policies import Action, permission_for
from common.schema import AUTHENTICATED_ERRORS, ErrorSerializer, error_responses
from data.models import Data
from data.pagination import DataCursorPagination, DataPagination, uses_cursor
from data.selectors import data_get, data_list, feedback_summary
from data.serializers import (
    DataFilterSerializer,
    DataImportInputSerializer,
    DataImportOptionsSerializer,
    DataImportRejectedSerializer,
    DataImportResultSerializer,
    DataInputSerializer,
    DataOutputSerializer,
    DataPageSerializer,
    FeedbackInputSerializer,
    FeedbackOutputSerializer,
    FeedbackSummarySerializer,
)
from data.services import (
    DataImportResult,
    DataImportTimedOut,
    data_bulk_create,
    data_create,
    data_delete,
    data_import,
    data_update,
    feedback_create,
)
from data.tabular import Table, TableError, UnsupportedFileType, file_format, read_table

_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Row id.")
_LIST_PARAMETERS = [
    DataFilterSerializer,
    OpenApiParameter(
        "page", OpenApiTypes.INT, description="1-based page number (page mode, the default)."
    ),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description="Keyset paging for deep pages: send it empty for the first page, then "
        "follow `next`/`previous` (opaque values). No `count` in this mode; each page costs "
        "the same however deep it is. A page stops early once its texts reach "
        "DATA_MAX_RESPONSE_BYTES: only a null `next` means the end.",
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description="Rows per page (default DATA_PAGE_SIZE); capped at DATA_MAX_PAGE_SIZE. "
        "In page mode, a page whose texts exceed DATA_MAX_RESPONSE_BYTES is a 400.",
    ),
]
_ONE_OR_MANY_IN = PolymorphicProxySerializer(
    component_name="DataCreate",
    serializers=[DataInputSerializer, DataInputSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)
_ONE_OR_MANY_OUT = PolymorphicProxySerializer(
    component_name="DataCreated",
    serializers=[DataOutputSerializer, DataOutputSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)
_ERRORS = (*AUTHENTICATED_ERRORS, 503)


@extend_schema_view(
    list=extend_schema(
        summary="List labelled texts",
        parameters=_LIST_PARAMETERS,
        responses={200: DataPageSerializer, **error_responses(400, 404, *_ERRORS)},
    ),
    create=extend_schema(
        summary="Add one labelled text, or a list of them (all or nothing)",
        description="A JSON list of 1..DATA_BULK_MAX_ITEMS items is inserted in one "
        "transaction; item errors are reported by index and nothing is saved.",
        request=_ONE_OR_MANY_IN,
        responses={201: _ONE_OR_MANY_OUT, **error_responses(400, 413, 415, *_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One labelled text",
        parameters=[_ID],
        responses={200: DataOutputSerializer, **error_responses(404, *_ERRORS)},
    ),
    update=extend_schema(
        summary="Replace a labelled text",
        parameters=[_ID],
        request=DataInputSerializer,
        responses={200: DataOutputSerializer, **error_responses(400, 404, 413, 415, *_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a labelled text",
        parameters=[_ID],
        request=DataInputSerializer(partial=True),
        responses={200: DataOutputSerializer, **error_responses(400, 404, 413, 415, *_ERRORS)},
    ),
    destroy=extend_schema(
        summary="Delete a labelled text",
        parameters=[_ID],
        responses={204: None, **error_responses(404, *_ERRORS)},
    ),
)
class DataViewSet(viewsets.GenericViewSet):
    """Labelled texts: the corpus the classifier is trained on."""

    # Each action validates, makes one selector or service call, and serialises the result.
    # `serializer_class` only feeds the browsable API's form.

    serializer_class = DataInputSerializer
    pagination_class = DataPagination
    permission_classes = [
        permission_for(
            Action.WRITE_DATA, GET=Action.READ_DATA, HEAD=Action.READ_DATA, OPTIONS=Action.READ_DATA
        )
    ]
    lookup_value_regex = "[0-9]+"

    @property
    def paginator(self):
        """Page numbers by default, keyset pages when the request names a ?cursor=."""
        if not hasattr(self, "_paginator"):
            cursor = self.request is not None and uses_cursor(self.request)
            self._paginator = DataCursorPagination() if cursor else self.pagination_class()
        return self._paginator

    def get_queryset(self) -> QuerySet[Data]:
        # Only the browsable API asks for this (to draw its filter form); actions use selectors.
        return data_list()

    def list(self, request: Request) -> Response:
        filters = DataFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(data_list(filters=filters.validated_data))
        return self.get_paginated_response(DataOutputSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        if isinstance(request.data, list):
            items = DataInputSerializer(
                data=request.data,
                many=True,
                allow_empty=False,
                max_length=settings.DATA_BULK_MAX_ITEMS,
            )
            items.is_valid(raise_exception=True)
            records = data_bulk_create(items=items.validated_data, created_by=request.user)
            output = DataOutputSerializer(records, many=True).data
            return Response(output, status=status.HTTP_201_CREATED)

        item = DataInputSerializer(data=request.data)
        item.is_valid(raise_exception=True)
        record = data_create(**item.validated_data, created_by=request.user)
        return Response(DataOutputSerializer(record).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(DataOutputSerializer(self._get_record(pk)).data)

    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        data_delete(record=self._get_record(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: Request, pk: str, *, partial: bool) -> Response:
        record = self._get_record(pk)
        changes = DataInputSerializer(data=request.data, partial=partial)
        changes.is_valid(raise_exception=True)
        record = data_update(record=record, **changes.validated_data)
        return Response(DataOutputSerializer(record).data)

    @staticmethod
    def _get_record(pk: str) -> Data:
        record = data_get(data_id=int(pk))
        if record is None:
            raise NotFound()
        return record


class FileTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is larger than the service accepts."
    default_code = "file_too_large"


class UnsupportedFile(APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_file_type"


_IMPORT_ERRORS = {
    400: OpenApiResponse(
        DataImportRejectedSerializer,
        description="Invalid rows, all or nothing: nothing was saved; `errors` maps each "
        "invalid row (the header is row 1) to its fields' messages. Also a file that cannot "
        "be read (not UTF-8, not a workbook, no text/label header, too many rows, empty): "
        "then only `detail`.",
    ),
    413: OpenApiResponse(
        ErrorSerializer,
        description="The upload is larger than REQUEST_MAX_BODY_BYTES, or its rows could not "
        "be saved within DATA_IMPORT_TIMEOUT_SECONDS (nothing was saved).",
    ),
    415: OpenApiResponse(
        ErrorSerializer,
        description="Not multipart/form-data, or the file is neither .csv nor .xlsx.",
    ),
}


class DataImportApi(APIView):
    """POST a CSV or XLSX file of labelled texts; every row is validated as POST /api/data/
    validates an item. Who may import is who may write data: any valid token."""

    # Explicit: this is the one endpoint that takes a form, and only a multipart one.
    parser_classes = [MultiPartParser]
    permission_classes = [permission_for(Action.WRITE_DATA)]

    @extend_schema(
        summary="Import labelled texts from a CSV or XLSX file",
        description="Multipart upload, field `file`. The first row names the columns `text` "
        "and `label` (any order; other columns are ignored and listed in `ignored_columns`). "
        "CSV: UTF-8 with or without BOM, comma separated (`;` or tab also recognised from "
        "the header), quoted fields may hold delimiters and newlines. XLSX: the first "
        "worksheet; numbers become text. Rows are numbered as a spreadsheet shows them: the "
        "header is row 1. Up to DATA_IMPORT_MAX_ROWS rows and REQUEST_MAX_BODY_BYTES bytes. "
        "All or nothing unless `?partial=true`.",
        parameters=[DataImportOptionsSerializer],
        request={"multipart/form-data": DataImportInputSerializer},
        responses={
            201: DataImportResultSerializer,
            **_IMPORT_ERRORS,
            **error_responses(*_ERRORS),
        },
    )
    def post(self, request: Request) -> Response:
        started = time.monotonic()
        # Django does not count uploaded files against DATA_UPLOAD_MAX_MEMORY_SIZE: check the
        # declared length before the body is read (it reads no more than that).
        if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise FileTooLarge(
                f"The upload is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
            )
        options = DataImportOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        form = DataImportInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        table = _read_upload(form.validated_data["file"])
        if not table.rows:
            raise ParseError("The file has a header row but no data rows.")

        budget = settings.DATA_IMPORT_TIMEOUT_SECONDS
        try:
            result = data_import(
                rows=table.rows,
                created_by=request.user,
                partial=options.validated_data["partial"],
                insert_timeout=budget - (time.monotonic() - started),
            )
        except DataImportTimedOut:
            raise FileTooLarge(
                f"The import did not finish within {budget:g} s (DATA_IMPORT_TIMEOUT_SECONDS) "
                "and nothing was saved; split the file."
            ) from None
        body = _import_body(result, table)
        if result.created == 0:
            body = {"detail": _import_summary(result), **body}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED)


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read_upload(upload) -> Table:
    try:
        fmt = file_format(upload.name or "", upload.content_type)
        return read_table(
            upload,
            fmt=fmt,
            max_rows=settings.DATA_IMPORT_MAX_ROWS,
            max_unpacked_bytes=settings.DATA_IMPORT_MAX_UNPACKED_BYTES,
        )
    except UnsupportedFileType as exc:
        raise UnsupportedFile(str(exc)) from None
    except TableError as exc:
        raise ParseError(str(exc)) from None


def _import_body(result: DataImportResult, table: Table) -> dict:
    return {
        "rows": result.rows,
        "created": result.created,
        "rejected": len(result.errors),
        "blank_rows": table.blank_rows,
        "ignored_columns": table.ignored_columns,
        "errors": {str(number): errors for number, errors in result.errors.items()},
    }


def _import_summary(result: DataImportResult) -> str:
    number, errors = next(iter(result.errors.items()))
    field, messages = next(iter(errors.items()))
    return (
        f"{len(result.errors)} of {result.rows} rows are invalid; nothing was saved. "
        f"First: row {number}, {field}: {messages[0]}"
    )


class FeedbackApi(APIView):
    """A client that learned the true label of a text it asked about says so."""

    permission_classes = [permission_for(Action.SEND_FEEDBACK)]

    @extend_schema(
        operation_id="feedback_create",
        summary="Send the true label of a predicted text",
        description="Stored as a labelled row (`source`: feedback, `verified`: false, who sent "
        "it) and a feedback record of the version and its predicted label; counted in "
        "`textclf_feedback_total{model_version,correct}` and GET /api/feedback/summary/. "
        "`model_version` must be a version the ML service keeps (else 400); 503 when it "
        "cannot be asked.",
        request=FeedbackInputSerializer,
        responses={201: FeedbackOutputSerializer, **error_responses(400, 413, 415, *_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        body = FeedbackInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        feedback = feedback_create(**body.validated_data, created_by=request.user)
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)


class FeedbackSummaryApi(APIView):
    """Live accuracy per model version, from the feedback received."""

    permission_classes = [permission_for(Action.READ_MODELS)]

    @extend_schema(
        operation_id="feedback_summary",
        summary="Feedback per model version: count, correct, accuracy",
        responses={200: FeedbackSummarySerializer, **error_responses(*_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        return Response(FeedbackSummarySerializer({"results": feedback_summary()}).data)
