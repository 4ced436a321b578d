import pytest

from data.models import Data
from data.services import data_create, data_delete

pytestmark = pytest.mark.django_db


def test_data_delete_removes_the_row():
    record = data_create(text="to go", label="libs")
    kept = data_create(text="to stay", label="libs")

    data_delete(record=record)

    assert list(Data.objects.values_list("id", flat=True)) == [kept.id]
