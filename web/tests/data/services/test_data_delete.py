import pytest

from data.models import Data
from data.services import data_create, data_delete

pytestmark = pytest.mark.django_db


def test_data_delete_removes_the_row():
    record = data_create(text="to go", label="libs")
    kept = data_create(text="to stay", label="libs")

    data_delete(record=record)

    assert list(Data.objects.values_list("id", flat=True)) == [kept.id]


def test_data_delete_of_a_row_deleted_meanwhile_raises_does_not_exist():
    record = data_create(text="to go", label="libs")
    Data.objects.filter(id=record.id).delete()

    with pytest.raises(Data.DoesNotExist):
        data_delete(record=record)
