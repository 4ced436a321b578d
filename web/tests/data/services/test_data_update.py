import pytest

from data.models import Data
from data.services import data_create, data_update

pytestmark = pytest.mark.django_db


def test_data_update_changes_only_the_given_fields():
    record = data_create(text="old text", label="libs")
    before = record.updated_at

    data_update(record=record, label="devel")

    stored = Data.objects.get(id=record.id)
    assert (stored.text, stored.label) == ("old text", "devel")
    assert stored.updated_at > before


def test_data_update_without_changes_writes_nothing():
    record = data_create(text="old text", label="libs")
    before = record.updated_at

    data_update(record=record)

    assert Data.objects.get(id=record.id).updated_at == before


def test_data_update_of_a_row_deleted_meanwhile_raises_does_not_exist():
    record = data_create(text="old text", label="libs")
    Data.objects.filter(id=record.id).delete()

    with pytest.raises(Data.DoesNotExist):
        data_update(record=record, text="new text")

    assert not Data.objects.exists()
