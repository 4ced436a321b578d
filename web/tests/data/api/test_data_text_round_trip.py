"""What a client stores is byte-for-byte what it reads back."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/data/"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("مرحبا بالعالم — نص من اليمين إلى اليسار", id="arabic-rtl"),
        pytest.param("\u202eRTL override\u202c and \u200f marks \u200e", id="bidi-controls"),
        pytest.param("שלום עולם", id="hebrew"),
        pytest.param("emoji 👩‍💻🚀 flags 🇺🇦 skin 👍🏽", id="emoji-zwj"),
        pytest.param("'; DROP TABLE data; --", id="sql-injection"),
        pytest.param("%_\\ LIKE wildcards", id="like-wildcards"),
        pytest.param('<script>alert("x")</script>&amp;', id="html"),
        pytest.param("  leading and trailing spaces  ", id="padded"),
        pytest.param("line one\r\nline two\n\ttabbed\n", id="newlines"),
        pytest.param("e\u0301 vs \u00e9 (NFD vs NFC)", id="unnormalised"),
        pytest.param("漢字かなカナ한국어", id="cjk"),
    ],
)
def test_text_round_trips_exactly(api_client, text):
    created = api_client.post(URL, {"text": text, "label": "misc"})
    assert created.status_code == 201
    assert created.json()["text"] == text

    fetched = api_client.get(f"{URL}{created.json()['id']}/")
    assert fetched.json()["text"] == text


def test_label_is_stored_as_sent(api_client):
    created = api_client.post(URL, {"text": "t", "label": "Ünïcode label"})

    assert created.json()["label"] == "Ünïcode label"
