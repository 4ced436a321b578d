"""The data API through nginx: bulk load, filters, a CRUD round trip, all-or-nothing bulk."""

import time
import uuid


def test_bulk_load_stores_every_row(api, loaded_corpus):
    response = api.get("/api/data/", params={"page_size": 1})
    assert response.status_code == 200
    assert response.json()["count"] >= len(loaded_corpus.train)


def test_label_filter_returns_only_that_label(api, loaded_corpus):
    label = loaded_corpus.train[0]["label"]
    expected = sum(row["label"] == label for row in loaded_corpus.train)
    body = api.get("/api/data/", params={"label": label, "page_size": 1000}).json()
    assert body["count"] >= expected
    assert {row["label"] for row in body["results"]} == {label}


def test_crud_round_trip(api):
    text = "Ein Werkzeug für Übersetzungen — مرحبا 🚀 <b>'; DROP TABLE data;--</b>"
    created = api.post("/api/data/", json={"text": text, "label": "e2e-crud"})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["text"] == text
    url = f"/api/data/{item['id']}/"

    assert api.get(url).json()["text"] == text

    replaced = api.request("PUT", url, json={"text": "replaced text", "label": "e2e-crud-2"})
    assert replaced.status_code == 200
    assert replaced.json()["label"] == "e2e-crud-2"

    patched = api.request("PATCH", url, json={"label": "e2e-crud-3"})
    assert patched.status_code == 200
    assert patched.json() | {"updated_at": None} == replaced.json() | {
        "label": "e2e-crud-3",
        "updated_at": None,
    }

    assert api.request("DELETE", url).status_code == 204
    assert api.get(url).status_code == 404


def test_bulk_with_one_bad_item_saves_nothing(api):
    label = f"e2e-atomic-{uuid.uuid4().hex[:8]}"
    items = [{"text": f"row {i}", "label": label} for i in range(5)]
    items[3]["text"] = "   "
    response = api.post("/api/data/", json=items)
    assert response.status_code == 400
    assert "detail" in response.json()
    assert api.get("/api/data/", params={"label": label}).json()["count"] == 0


def test_invalid_json_is_a_clear_400(api):
    response = api.post(
        "/api/data/", data=b'{"text": "unterminated', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_oversized_body_is_refused_by_nginx_with_json(api):
    response = api.post(
        "/api/data/",
        data=b"x" * (17 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "detail" in response.json()


def test_a_common_search_counts_up_to_the_cap_and_pages_on(api, loaded_corpus):
    """A search counts its matches up to DATA_SEARCH_COUNT_CAP (1,000 in the stack) or to the
    requested page's end, and says when it stopped there."""
    term = "package"
    assert sum(term in row["text"].lower() for row in loaded_corpus.train) > 1500

    first = api.get("/api/data/", params={"search": term, "page_size": 50}).json()
    deep = api.get("/api/data/", params={"search": term, "page_size": 50, "page": 30}).json()
    by_label = api.get("/api/data/", params={"label": loaded_corpus.train[0]["label"]}).json()

    assert (first["count"], first["count_exact"], len(first["results"])) == (1000, False, 50)
    assert all(term in row["text"].lower() for row in first["results"])
    assert (deep["count"], deep["count_exact"], len(deep["results"])) == (1500, False, 50)
    assert first["next"] and deep["next"]
    assert by_label["count_exact"] is True


_UNINDEXED_PROBE = """
from data.models import Data
print(Data.objects.filter(search_ready=False, text__contains={marker!r}).count())
"""


def test_bulk_rows_are_found_at_once_and_indexed_behind_the_import(stack, api):
    """A bulk insert leaves its rows out of the trigram index and web's thread indexes them
    after commit; ?search= finds them before and after."""
    marker = f"zq{uuid.uuid4().hex[:12]}"
    rows = [{"text": f"{marker} row {i}", "label": "e2e-search"} for i in range(20)]
    created = api.post("/api/data/", json=rows)
    assert created.status_code == 201, created.text
    ids = [row["id"] for row in created.json()]
    try:
        assert api.get("/api/data/", params={"search": marker}).json()["count"] == 20

        probe = _UNINDEXED_PROBE.format(marker=marker)
        deadline = time.monotonic() + 30
        while True:
            result = stack.exec("web", "python", "manage.py", "shell", "-c", probe)
            assert result.returncode == 0, result.stderr
            if int(result.stdout.strip().splitlines()[-1]) == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert int(result.stdout.strip().splitlines()[-1]) == 0

        assert api.get("/api/data/", params={"search": marker}).json()["count"] == 20
    finally:
        for data_id in ids:
            api.request("DELETE", f"/api/data/{data_id}/")
