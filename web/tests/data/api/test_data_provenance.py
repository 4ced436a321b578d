"""Every way a row enters `data` records where it came from and who added it; the database
itself refuses an unknown source."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from data.models import Data

pytestmark = pytest.mark.django_db


def provenance(record_id) -> tuple[str, int | None, bool]:
    return Data.objects.values_list("source", "created_by_id", "verified").get(id=record_id)


def test_one_posted_row_is_entered_by_its_author(api_client, user):
    response = api_client.post("/api/data/", {"text": "A text editor", "label": "editors"})

    assert response.status_code == 201
    assert provenance(response.json()["id"]) == ("entered", user.id, True)


def test_a_posted_list_is_imported_by_its_author(api_client, user):
    response = api_client.post(
        "/api/data/",
        [{"text": "vim", "label": "editors"}, {"text": "git", "label": "vcs"}],
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert [(row["source"], row["created_by"], row["verified"]) for row in body] == [
        ("imported", user.id, True)
    ] * 2
    assert [provenance(row["id"]) for row in body] == [("imported", user.id, True)] * 2


def test_a_file_import_is_imported_by_its_author(staff_client, staff_user):
    content = b"text,label\nvim,editors\ngit,vcs\n"

    response = staff_client.post(
        "/api/data/import/",
        {"file": SimpleUploadedFile("rows.csv", content, content_type="text/csv")},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert set(Data.objects.values_list("source", "created_by_id", "verified")) == {
        ("imported", staff_user.id, True)
    }


def test_provenance_cannot_be_sent(api_client):
    response = api_client.post(
        "/api/data/", {"text": "vim", "label": "editors", "source": "feedback"}, format="json"
    )

    assert response.status_code == 400
    assert "source" in response.json()["detail"]
    assert not Data.objects.exists()


def test_an_insert_that_does_not_know_the_columns_gets_the_defaults():
    # What the previous release's code does during a rolling deploy (and its COPY).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data (text, label, created_at, updated_at)"
            " VALUES ('t', 'l', now(), now()) RETURNING id"
        )
        record_id = cursor.fetchone()[0]

    assert provenance(record_id) == ("imported", None, True)


def test_the_database_refuses_an_unknown_source():
    with (
        pytest.raises(IntegrityError, match="data_source_valid"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO data (text, label, created_at, updated_at, source)"
            " VALUES ('t', 'l', now(), now(), 'scraped')"
        )
    assert not Data.objects.exists()
