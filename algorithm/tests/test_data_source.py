from mlservice import data_source
from tests.helpers import insert_rows


def test_rows_stream_in_id_order_in_bounded_batches(conn):
    rows = [(f"text {i}", f"label{i % 3}") for i in range(10)]
    insert_rows(conn, rows)
    batches = list(data_source.iter_batches(conn, batch_size=4))
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert [tuple(row) for batch in batches for row in batch] == rows


def test_read_all_returns_parallel_columns(conn):
    insert_rows(conn, [("a b", "x"), ("c d", "y")])
    assert data_source.read_all(conn, batch_size=1) == (["a b", "c d"], ["x", "y"])


def test_an_empty_table_reads_as_no_rows(conn):
    assert data_source.read_all(conn, batch_size=5000) == ([], [])


def test_texts_round_trip_exactly(conn):
    text = "  مرحبا 👋 tabs\tand\nnewlines  "
    insert_rows(conn, [(text, "misc")])
    assert data_source.read_all(conn, batch_size=10) == ([text], ["misc"])


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
