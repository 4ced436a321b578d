import pytest

from data.selectors import data_list
from data.services import data_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    return [
        data_create(text="Python bindings for libfoo", label="python"),
        data_create(text="Development files for LIBFOO", label="libdevel"),
        data_create(text="A text editor", label="editors"),
        data_create(text="libfoo shared library", label="libs"),
    ]


def test_data_list_returns_everything_ordered_by_id(rows):
    assert list(data_list()) == rows


def test_data_list_filters_by_exact_label(rows):
    assert list(data_list(filters={"label": "libs"})) == [rows[3]]
    assert list(data_list(filters={"label": "lib"})) == []


def test_data_list_searches_text_case_insensitively(rows):
    assert list(data_list(filters={"search": "libFOO"})) == [rows[0], rows[1], rows[3]]


def test_data_list_combines_filters(rows):
    assert list(data_list(filters={"search": "libfoo", "label": "python"})) == [rows[0]]


def test_data_list_treats_blank_filters_as_absent(rows):
    assert list(data_list(filters={"search": "", "label": ""})) == rows


def test_data_list_search_matches_like_wildcards_literally(rows):
    percent = data_create(text="100% free", label="misc")

    assert list(data_list(filters={"search": "%"})) == [percent]
    assert list(data_list(filters={"search": "_"})) == []
