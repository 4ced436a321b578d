import pytest

from data.models import Data
from data.services import data_create

pytestmark = pytest.mark.django_db


def test_data_create_stores_the_row_exactly():
    record = data_create(text="  Padded text\n", label="libs")

    stored = Data.objects.get(id=record.id)
    assert stored.text == "  Padded text\n"
    assert stored.label == "libs"
    assert stored.created_at is not None
    assert stored.updated_at >= stored.created_at
