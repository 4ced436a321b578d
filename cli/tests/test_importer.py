import pytest
from conftest import Crash

from textclf_cli.client import ApiError
from textclf_cli.importer import Importer, ImportStateError
from textclf_cli.rows import Row


def make_rows(count: int, *, bad_lines=(), server_bad_lines=()) -> list[Row]:
    rows = []
    for index in range(count):
        line = index + 2
        text = f"text {index}"
        if line in bad_lines:
            text = "  "
        if line in server_bad_lines:
            text = f"SERVER-REJECT {index}"
        rows.append(Row(line, text, f"label{index % 3}"))
    return rows


def run(client, store, rows, *, batch_size=4, **options):
    importer = Importer(client, store, batch_size=batch_size)
    return importer.run(path="f.csv", rows=rows, sha256="abc", **options)


def test_all_rows_in_batches(server, client, store):
    summary = run(client, store, make_rows(10))
    assert summary.added == 10
    assert summary.rejected == []
    assert server.posts == 3
    assert [row["text"] for row in server.rows] == [f"text {i}" for i in range(10)]
    assert store.load("abc", client.url).complete


def test_a_finished_import_is_not_repeated_by_mistake(server, client, store):
    rows = make_rows(5)
    run(client, store, rows)
    with pytest.raises(ImportStateError, match="already imported"):
        run(client, store, rows)
    assert run(client, store, rows, resume=True).added == 5  # nothing left to do
    assert len(server.rows) == 5
    assert run(client, store, rows, skip_existing=True).skipped == 5
    assert run(client, store, rows, restart=True).added == 5
    assert len(server.rows) == 10


def test_client_side_rejects_are_never_sent(server, client, store):
    summary = run(client, store, make_rows(6, bad_lines=(3, 6)))
    assert summary.added == 4
    assert summary.rejected == [
        (3, "text: This field may not be blank."),
        (6, "text: This field may not be blank."),
    ]
    assert len(server.rows) == 4


def test_server_per_index_errors_map_to_file_lines_and_the_rest_is_saved(server, client, store):
    summary = run(client, store, make_rows(8, server_bad_lines=(4, 9)))
    assert summary.rejected == [
        (4, "text: Ensure this field has no more than 10 characters."),
        (9, "text: Ensure this field has no more than 10 characters."),
    ]
    assert summary.added == 6
    assert len(server.rows) == 6


def test_resume_after_a_crash_before_the_server_saved(server, client, store):
    rows = make_rows(10)
    server.crash_before_commit_on_post = 2
    with pytest.raises(Crash):
        run(client, store, rows)
    assert len(server.rows) == 4
    summary = run(client, store, rows, resume=True)
    assert summary.resumed_from == 4
    assert summary.added == 10
    assert [row["text"] for row in server.rows] == [f"text {i}" for i in range(10)]


def test_resume_after_a_crash_after_the_server_saved_sends_no_duplicates(server, client, store):
    rows = make_rows(10, bad_lines=(7,))
    server.crash_after_commit_on_post = 2  # saved, but the answer never reached the client
    with pytest.raises(Crash):
        run(client, store, rows)
    assert len(server.rows) == 8
    summary = run(client, store, rows, resume=True)
    assert summary.resumed_from == 9  # the in-flight batch was found on the server
    assert summary.added == 9
    assert summary.rejected == [(7, "text: This field may not be blank.")]
    texts = [row["text"] for row in server.rows]
    assert len(texts) == len(set(texts)) == 9


def test_resume_refuses_to_guess_when_the_server_cannot_count_the_probe(server, client, store):
    rows = [Row(index + 2, "same text", "libs") for index in range(6)]
    server.search_count_cap = 3  # more rows look like the last one than a search counts
    server.crash_after_commit_on_post = 2
    with pytest.raises(Crash):
        run(client, store, rows, batch_size=2)
    assert len(server.rows) == 4

    with pytest.raises(ImportStateError, match="--skip-existing"):
        run(client, store, rows, batch_size=2, resume=True)
    assert len(server.rows) == 4  # nothing sent twice


def test_resume_after_an_api_error(server, client, store):
    rows = make_rows(10)
    original = server._post

    def unavailable_on_second(items):
        if server.posts == 1:
            server.posts += 1
            from httpx import Response

            return Response(503, json={"detail": "The database is unavailable"})
        return original(items)

    server._post = unavailable_on_second
    with pytest.raises(ApiError, match="unavailable"):
        run(client, store, rows)
    summary = run(client, store, rows, resume=True)
    assert summary.added == 10
    assert len(server.rows) == 10


def test_an_interrupted_import_is_not_silently_repeated(server, client, store):
    rows = make_rows(10)
    server.crash_before_commit_on_post = 2
    with pytest.raises(Crash):
        run(client, store, rows)
    with pytest.raises(ImportStateError, match="--resume"):
        run(client, store, rows)
    summary = run(client, store, rows, restart=True)
    assert summary.added == 10
    assert len(server.rows) == 14  # --restart means: send it all again


def test_skip_existing_leaves_out_rows_already_on_the_server(server, client, store):
    rows = make_rows(10)
    server.rows = [{"text": "text 1", "label": "label1"}, {"text": "text 5", "label": "label2"}]
    summary = run(client, store, rows, skip_existing=True, batch_size=3)
    assert (summary.added, summary.skipped) == (8, 2)
    assert sorted(row["text"] for row in server.rows) == sorted(f"text {i}" for i in range(10))
    again = run(client, store, rows, skip_existing=True, batch_size=3)
    assert (again.added, again.skipped) == (0, 10)
    assert len(server.rows) == 10


def test_a_state_is_per_server(server, client, store):
    rows = make_rows(10)
    server.crash_before_commit_on_post = 2
    with pytest.raises(Crash):
        run(client, store, rows)
    assert store.load("abc", client.url) is not None
    assert store.load("abc", "http://other.test") is None
