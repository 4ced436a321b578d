import psycopg
import pytest

from mlservice.training import data_source
from tests.support import insert_rows


def test_rows_stream_in_id_order_in_bounded_batches(conn):
    rows = [(f"text {i}", f"label{i % 3}") for i in range(10)]
    insert_rows(conn, rows)
    batches = list(data_source.iter_batches(conn, batch_size=4))
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert [tuple(row[1:]) for batch in batches for row in batch] == rows
    ids = [row[0] for batch in batches for row in batch]
    assert ids == sorted(ids)


def test_read_all_returns_parallel_columns(conn):
    insert_rows(conn, [("a b", "x"), ("c d", "y")])
    ids, texts, labels = data_source.read_all(conn, batch_size=1)
    assert (texts, labels) == (["a b", "c d"], ["x", "y"])
    assert ids == [row[0] for row in conn.execute("SELECT id FROM data ORDER BY id")]


def test_an_empty_table_reads_as_no_rows(conn):
    assert data_source.read_all(conn, batch_size=5000) == ([], [], [])


def test_texts_round_trip_exactly(conn):
    text = "  مرحبا 👋 tabs\tand\nnewlines  "
    insert_rows(conn, [(text, "misc")])
    assert data_source.read_all(conn, batch_size=10)[1:] == ([text], ["misc"])


def test_too_many_labels_are_refused_while_reading_with_the_exact_count(conn):
    insert_rows(conn, [(f"text {i}", f"label{i}") for i in range(5000)])
    with pytest.raises(data_source.TooManyLabels) as refused:
        data_source.read_all(conn, batch_size=100, max_labels=500)
    assert str(refused.value) == (
        "Training data has 5,000 labels; at most TRAIN_MAX_LABELS=500 are allowed."
    )


def test_reading_stops_at_the_first_label_over_the_cap(conn, monkeypatch):
    insert_rows(conn, [(f"text {i}", f"label{i}") for i in range(5000)])
    batches = []
    real_iter = data_source.iter_batches

    def counting(*args, **kwargs):
        for batch in real_iter(*args, **kwargs):
            batches.append(len(batch))
            yield batch

    monkeypatch.setattr(data_source, "iter_batches", counting)
    with pytest.raises(data_source.TooManyLabels):
        data_source.read_all(conn, batch_size=100, max_labels=500)
    assert sum(batches) == 600  # the batch holding label 501, not the whole table


def test_labels_up_to_the_cap_are_read(conn):
    insert_rows(conn, [(f"text {i}", f"label{i % 3}") for i in range(10)])
    ids, texts, labels = data_source.read_all(conn, batch_size=4, max_labels=3)
    assert len(ids) == len(texts) == len(labels) == 10


def test_read_all_reports_rows_read_of_the_rows_counted(conn):
    insert_rows(conn, [(f"text {i}", "x") for i in range(10)])
    seen = []
    data_source.read_all(
        conn, batch_size=4, on_progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_an_empty_table_reports_zero_of_zero(conn):
    seen = []
    data_source.read_all(
        conn, batch_size=4, on_progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(0, 0)]


def _mark_unverified(conn, texts) -> None:
    conn.execute(
        "UPDATE data SET verified = false, source = 'feedback' WHERE text = ANY(%s)", [list(texts)]
    )


def test_verified_only_reads_the_verified_rows_and_counts_them(conn, ml_database_url):
    insert_rows(conn, [(f"text {i}", f"label{i % 2}") for i in range(6)])
    _mark_unverified(conn, ["text 1", "text 4"])
    seen = []

    # As the ML service's own least-privilege role, which must be allowed to read `verified`.
    with psycopg.connect(ml_database_url) as ml_conn:
        _, texts, labels = data_source.read_all(
            ml_conn,
            batch_size=2,
            verified_only=True,
            on_progress=lambda done, total: seen.append((done, total)),
        )
        everything = data_source.read_all(ml_conn, batch_size=2)[1]

    assert texts == ["text 0", "text 2", "text 3", "text 5"]
    assert labels == ["label0", "label0", "label1", "label1"]
    assert seen == [(0, 4), (2, 4), (4, 4)]
    assert everything == [f"text {i}" for i in range(6)]


def test_verified_only_counts_the_labels_of_verified_rows_in_a_refusal(conn):
    insert_rows(conn, [(f"text {i}", f"label{i}") for i in range(10)])
    _mark_unverified(conn, [f"text {i}" for i in range(5)])

    with pytest.raises(data_source.TooManyLabels) as refused:
        data_source.read_all(conn, batch_size=100, max_labels=3, verified_only=True)

    assert refused.value.count == 5
