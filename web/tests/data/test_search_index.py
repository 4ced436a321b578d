"""Bulk inserts leave the trigram index alone; a thread indexes their rows behind them.
Searches find every committed row, indexed or not, and can read an index for both kinds."""

import threading

import pytest
from django.db import connection, transaction

from data import search_index
from data.models import Data
from data.selectors import data_list
from data.services import data_bulk_create, data_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_background(settings):
    settings.DATA_SEARCH_INDEX_IN_BACKGROUND = True


def _found(text: str) -> int:
    return data_list(filters={"search": text}).count()


def _trigram_pending_pages() -> int:
    """Pages of trigram entries waiting in the index's pending list (merging them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_search_merge()")
        return cursor.fetchone()[0]


def test_a_bulk_insert_writes_nothing_to_the_trigram_index(in_background):
    # Before: every row's trigrams were appended to the index inside the request (a thousand
    # descriptions filled about one 4 MB pending list), ~95% of Postgres's work per row.
    _trigram_pending_pages()
    data_bulk_create(items=[{"text": f"row {i} Zebrafish " * 20, "label": "a"} for i in range(300)])
    assert _trigram_pending_pages() == 0
    assert not Data.objects.filter(search_ready=True).exists()


def test_rows_are_found_before_and_after_they_are_indexed(in_background):
    data_bulk_create(items=[{"text": f"row {i} Zebrafish", "label": "a"} for i in range(50)])
    assert _found("zebraf") == 50  # the backlog, read directly

    assert search_index.index_backlog() == 50
    assert Data.objects.filter(search_ready=False).count() == 0
    assert _found("zebraf") == 50  # now through the trigram index
    assert search_index.index_backlog() == 0


def test_with_the_setting_off_a_bulk_insert_indexes_its_rows_itself(
    settings, django_capture_on_commit_callbacks
):
    settings.DATA_SEARCH_INDEX_IN_BACKGROUND = False
    with django_capture_on_commit_callbacks() as callbacks:
        data_bulk_create(items=[{"text": "alpha bravo", "label": "a"}])
    assert Data.objects.get().search_ready
    assert callbacks == []


def test_one_row_is_indexed_as_it_is_written(in_background):
    assert data_create(text="charlie delta", label="a").search_ready
    assert Data.objects.get().search_ready  # the database default, for older releases too


def test_an_edited_backlog_row_is_found_by_its_new_text(in_background):
    (row,) = data_bulk_create(items=[{"text": "echo foxtrot", "label": "a"}])
    Data.objects.filter(pk=row.pk).update(text="golf hotel")
    assert _found("foxtrot") == 0
    assert _found("golf h") == 1
    search_index.index_backlog()
    assert _found("golf h") == 1


def test_a_search_can_read_an_index_for_both_kinds_of_rows(in_background):
    data_bulk_create(items=[{"text": "india juliett", "label": "a"}] * 20)
    search_index.index_backlog()
    data_bulk_create(items=[{"text": "india kilo", "label": "a"}] * 20)
    queryset = data_list(filters={"search": "india"})
    with connection.cursor() as cursor:
        # A small table is cheaper to read whole; forbid that to see what a big one gets.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "data_text_trgm_ready_idx" in plan
    assert "data_search_backlog_idx" in plan
    assert "Seq Scan" not in plan


def test_a_bulk_insert_asks_for_indexing_once_committed(
    in_background, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        data_bulk_create(items=[{"text": "lima mike", "label": "a"}])
    assert search_index.request_indexing in callbacks


def test_a_rolled_back_bulk_insert_asks_for_nothing(
    in_background, django_capture_on_commit_callbacks
):
    def insert_then_fail():
        with transaction.atomic():
            data_bulk_create(items=[{"text": "alpha bravo", "label": "a"}])
            raise RuntimeError

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        insert_then_fail()
    assert callbacks == []


def test_indexing_runs_for_a_role_that_does_not_own_the_table(in_background):
    # web serves as a role without ownership (ensure_db_role); gin_clean_pending_list and
    # ANALYZE need it, and the functions do only that.
    data_bulk_create(items=[{"text": "november oscar", "label": "a"}] * 3)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE ROLE textclf_test_index_role")
        cursor.execute("GRANT SELECT, UPDATE ON data TO textclf_test_index_role")
        cursor.execute("SET LOCAL ROLE textclf_test_index_role")
        assert search_index.index_backlog() == 3
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_the_thread_indexes_a_committed_bulk_insert(in_background, monkeypatch):
    indexed = threading.Event()
    original = search_index.index_backlog

    def index_and_tell() -> int:
        rows = original()
        if rows:
            indexed.set()
        return rows

    monkeypatch.setattr(search_index, "index_backlog", index_and_tell)
    data_bulk_create(items=[{"text": "papa quebec", "label": "a"}] * 10)

    assert indexed.wait(timeout=30)
    assert Data.objects.filter(search_ready=True).count() == 10
    assert _found("papa q") == 10
