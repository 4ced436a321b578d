from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from data.models import Data
from data.serializers import DataOutputSerializer


class GenericDataOutputSerializer(serializers.ModelSerializer):
    """DRF's own field-by-field output, the reference for the fast path."""

    class Meta:
        model = Data
        fields = (
            "id",
            "text",
            "label",
            "created_at",
            "updated_at",
            "source",
            "created_by",
            "verified",
        )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=UTC),
        datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC),
        datetime(2026, 11, 27, 3, 2, 3, 1, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_the_fast_output_equals_drfs(moment):
    record = Data(
        id=7,
        text="  a text 👩‍💻 ",
        label="libs",
        created_at=moment,
        updated_at=moment,
        source="entered",
        created_by_id=3,
        verified=False,
    )

    assert DataOutputSerializer(record).data == GenericDataOutputSerializer(record).data
