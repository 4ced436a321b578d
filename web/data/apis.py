from django.conf import settings
from django.db.models import QuerySet
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from data.models import Data
from data.pagination import DataPagination
from data.selectors import data_get, data_list
from data.serializers import DataFilterSerializer, DataInputSerializer, DataOutputSerializer
from data.services import data_bulk_create, data_create, data_delete, data_update


class DataViewSet(viewsets.GenericViewSet):
    """CRUD for labelled texts. POST takes one object, or a list of them (bulk, all or nothing).

    Each action validates, makes one selector or service call, and serialises the result.
    `serializer_class` only feeds the browsable API's form.
    """

    serializer_class = DataInputSerializer
    pagination_class = DataPagination
    lookup_value_regex = "[0-9]+"

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
