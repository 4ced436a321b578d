import pytest

from data import apis as data_apis
from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"


def detail_url(record_id) -> str:
    return f"{URL}{record_id}/"


def test_crud_round_trip(api_client, user):
    created = api_client.post(URL, {"text": "A text editor", "label": "editors"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id",
        "text",
        "label",
        "created_at",
        "updated_at",
        "source",
        "created_by",
        "verified",
    }
    assert (body["text"], body["label"]) == ("A text editor", "editors")
    assert (body["source"], body["created_by"], body["verified"]) == ("entered", user.id, True)

    fetched = api_client.get(detail_url(body["id"]))
    assert fetched.status_code == 200
    assert fetched.json() == body

    replaced = api_client.put(detail_url(body["id"]), {"text": "Vim", "label": "editors"})
    assert replaced.status_code == 200
    assert replaced.json()["text"] == "Vim"

    patched = api_client.patch(detail_url(body["id"]), {"label": "vcs"})
    assert patched.status_code == 200
    assert (patched.json()["text"], patched.json()["label"]) == ("Vim", "vcs")
    assert patched.json()["created_at"] == body["created_at"]

    listed = api_client.get(URL).json()
    assert listed["count"] == 1
    assert listed["results"] == [patched.json()]

    deleted = api_client.delete(detail_url(body["id"]))
    assert deleted.status_code == 204
    assert api_client.get(detail_url(body["id"])).status_code == 404
    assert Data.objects.count() == 0


def test_put_requires_both_fields(api_client):
    record = Data.objects.create(text="text", label="libs")

    response = api_client.put(detail_url(record.id), {"text": "only text"})

    assert response.status_code == 400
    assert "label" in response.json()["errors"]
    record.refresh_from_db()
    assert record.text == "text"


def test_patch_validates_the_fields_it_is_given(api_client):
    record = Data.objects.create(text="text", label="libs")

    response = api_client.patch(detail_url(record.id), {"text": "   "})

    assert response.status_code == 400
    record.refresh_from_db()
    assert record.text == "text"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("record_id", ["999999", "99999999999999999999", "abc", "-1"])
def test_unknown_or_malformed_id_is_404_json(api_client, method, record_id):
    response = getattr(api_client, method)(detail_url(record_id), {"text": "t", "label": "l"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", URL), ("post", URL), ("get", detail_url(1)), ("delete", detail_url(1))],
)
def test_every_data_endpoint_requires_a_token(anonymous_client, method, url):
    response = getattr(anonymous_client, method)(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_invalid_token_is_401(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anonymous_client.get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_browsable_api_renders(api_client):
    Data.objects.create(text="text", label="libs")

    assert api_client.get(URL, HTTP_ACCEPT="text/html").status_code == 200
    assert (
        api_client.get(detail_url(Data.objects.get().id), HTTP_ACCEPT="text/html").status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "payload"),
    [("put", {"text": "new", "label": "libs"}), ("patch", {"label": "vcs"}), ("delete", None)],
)
def test_a_row_deleted_by_a_concurrent_request_is_404_not_500(
    api_client, monkeypatch, method, payload
):
    """The race: the view reads the row, another request deletes it, then the view writes."""
    record = Data.objects.create(text="text", label="libs")

    def read_then_lose_the_race(*, data_id):
        stale = data_get_unpatched(data_id=data_id)
        Data.objects.filter(id=data_id).delete()
        return stale

    data_get_unpatched = data_apis.data_get
    monkeypatch.setattr(data_apis, "data_get", read_then_lose_the_race)

    response = getattr(api_client, method)(detail_url(record.id), payload)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert not Data.objects.exists()
