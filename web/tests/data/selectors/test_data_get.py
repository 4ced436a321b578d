import pytest

from data.selectors import data_get
from data.services import data_create

pytestmark = pytest.mark.django_db


def test_data_get_returns_the_row():
    record = data_create(text="hello", label="misc")

    assert data_get(data_id=record.id) == record


def test_data_get_returns_none_for_an_unknown_id():
    assert data_get(data_id=123_456) is None
