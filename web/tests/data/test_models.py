"""The table's invariants hold even for writes that bypass the API (ORM, admin, raw SQL)."""

import pytest
from django.db import DataError, IntegrityError, transaction

from data.models import Data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "label", "constraint"),
    [
        ("", "libs", "data_text_not_blank"),
        ("   ", "libs", "data_text_not_blank"),
        ("\t\n\r ", "libs", "data_text_not_blank"),
        ("text", "", "data_label_not_blank"),
        ("text", "  ", "data_label_not_blank"),
    ],
)
def test_database_rejects_blank_text_or_label(text, label, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Data.objects.create(text=text, label=label)

    assert Data.objects.count() == 0


def test_database_rejects_a_label_longer_than_100_characters():
    with pytest.raises(DataError), transaction.atomic():
        Data.objects.create(text="text", label="x" * 101)


def test_table_is_named_data_with_a_label_index():
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "data")

    assert Data._meta.db_table == "data"
    assert any(c["index"] and c["columns"] == ["label"] for c in constraints.values())
