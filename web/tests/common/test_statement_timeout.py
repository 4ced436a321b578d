"""Every statement web runs is cut off at DATABASE_STATEMENT_TIMEOUT_MS by Postgres itself,
and the API answers that with a 503 and a detail, not a 500 or a held thread."""

import pytest
from django.db import connection, transaction

from data.models import Data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def statement_timeout_ms(settings):
    """Web's connections reopened with a 200 ms timeout, through the same OPTIONS."""
    original = connection.settings_dict["OPTIONS"]["options"]
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 200
    connection.close()
    connection.settings_dict["OPTIONS"]["options"] = "-c statement_timeout=200"
    yield 200
    connection.close()
    connection.settings_dict["OPTIONS"]["options"] = original


def slow_data_get(*, data_id: int) -> Data | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2)")
    return None


def test_web_connections_have_the_default_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


def test_a_statement_over_the_timeout_is_cancelled_and_answered_503(
    api_client, statement_timeout_ms, monkeypatch
):
    monkeypatch.setattr("data.apis.data_get", slow_data_get)

    response = api_client.get("/api/data/1/")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The database took too long to answer; narrow the query or retry shortly."
    }
    # The connection is usable again for the next request.
    assert api_client.get("/api/data/").status_code == 200


def test_a_bulk_insert_has_its_own_longer_timeout(api_client, statement_timeout_ms):
    """1,000 texts of 16 KB take seconds to index, far over a read's timeout."""
    items = [
        {"text": f"{index} " + "word and more words " * 800, "label": "l"} for index in range(1000)
    ]

    response = api_client.post("/api/data/", items, format="json")

    assert response.status_code == 201, response.content[:300]
    assert Data.objects.count() == 1000


def test_the_bulk_timeout_lasts_only_for_the_insert(settings):
    from data.services import data_bulk_create

    settings.DATA_BULK_STATEMENT_TIMEOUT_MS = 12_345
    with connection.cursor() as cursor, transaction.atomic():
        data_bulk_create(items=[{"text": "t", "label": "l"}])
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "12345ms"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"
