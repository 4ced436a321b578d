"""Data.objects.count() of the whole table reads the trigger-kept count: always exact."""

import pytest
from django.db import connection, transaction

from data.models import Data
from data.services import data_bulk_create, data_create, data_delete

pytestmark = pytest.mark.django_db


def counted() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM data")
        return cursor.fetchone()[0]


def test_the_count_follows_every_kind_of_write():
    first = data_create(text="one", label="a")
    data_bulk_create(items=[{"text": f"t{index}", "label": "b"} for index in range(25)])
    Data.objects.bulk_create([Data(text="orm", label="c"), Data(text="orm 2", label="c")])
    assert Data.objects.count() == counted() == 28

    data_delete(record=first)
    Data.objects.filter(label="c").delete()
    assert Data.objects.count() == counted() == 25


def test_a_rolled_back_write_leaves_the_count_alone():
    data_create(text="kept", label="a")

    def write_then_fail():
        with transaction.atomic():
            data_bulk_create(items=[{"text": "gone", "label": "a"}] * 10)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert Data.objects.count() == counted() == 1


def test_truncate_resets_the_count():
    data_bulk_create(items=[{"text": "t", "label": "a"}] * 5)

    with connection.cursor() as cursor:
        # Django's foreign keys (created_by) are checked at commit: run those checks first, as
        # TRUNCATE refuses a table with pending ones; CASCADE for data_feedback, which points here.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE data RESTART IDENTITY CASCADE")

    assert Data.objects.count() == counted() == 0


def test_filtered_counts_are_still_computed():
    data_bulk_create(items=[{"text": "t", "label": "a"}] * 3 + [{"text": "u", "label": "b"}])

    assert Data.objects.filter(label="a").count() == 3
    assert Data.objects.filter(text__ilike_contains="U").count() == 1
    assert Data.objects.all()[:2].count() == 2
    assert Data.objects.values("label").distinct().count() == 2


def test_the_api_count_is_the_table_count(api_client):
    data_bulk_create(items=[{"text": "t", "label": "a"}] * 7)

    assert api_client.get("/api/data/").json()["count"] == 7
