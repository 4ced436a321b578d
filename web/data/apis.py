from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.policies import Action, permission_for
from common.schema import AUTHENTICATED_ERRORS, error_responses
from data.models import Data
from data.pagination import DataCursorPagination, DataPagination, uses_cursor
from data.selectors import data_get, data_list
from data.serializers import (
    DataFilterSerializer,
    DataInputSerializer,
    DataOutputSerializer,
    DataPageSerializer,
)
from data.services import data_bulk_create, data_create, data_delete, data_update

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
            records = data_bulk_create(items=items.validated_data)
            output = DataOutputSerializer(records, many=True).data
            return Response(output, status=status.HTTP_201_CREATED)

        item = DataInputSerializer(data=request.data)
        item.is_valid(raise_exception=True)
        record = data_create(**item.validated_data)
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
