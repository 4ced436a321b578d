import pytest
from django.db import connection

from data.models import Data
from data.services import DataImportTimedOut, data_import
from data.tabular import Row

pytestmark = pytest.mark.django_db


def rows(count: int) -> list[Row]:
    return [
        Row(number=index + 2, values={"text": f"text number {index}", "label": "a"})
        for index in range(count)
    ]


def test_valid_rows_are_saved_in_input_order():
    result = data_import(rows=rows(3), insert_timeout=30)

    assert (result.rows, result.created, result.errors) == (3, 3, {})
    assert list(Data.objects.order_by("id").values_list("text", flat=True)) == [
        "text number 0",
        "text number 1",
        "text number 2",
    ]


def test_an_insert_past_its_timeout_is_cancelled_by_postgres_and_saves_nothing():
    # 20,000 rows with their trigram index entries take Postgres far longer than 10 ms.
    with pytest.raises(DataImportTimedOut):
        data_import(rows=rows(20_000), insert_timeout=0.01)

    assert Data.objects.count() == 0


def test_no_time_left_saves_nothing_without_asking_the_database():
    with pytest.raises(DataImportTimedOut):
        data_import(rows=rows(1), insert_timeout=0)

    assert Data.objects.count() == 0


def test_the_timeout_ends_with_the_insert():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]

    data_import(rows=rows(1), insert_timeout=0.5)

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before
