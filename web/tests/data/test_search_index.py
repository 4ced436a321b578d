"""Bulk inserts append to the trigram index's pending list; a merge after commit, on its own
connection, folds it into the index. Searches are exact before and after the merge."""

import threading

import pytest
from django.db import connection, transaction

from data import search_index
from data.models import Data
from data.services import data_bulk_create

pytestmark = pytest.mark.django_db


def _reloptions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'data_text_trgm_idx'")
        return cursor.fetchone()[0] or []


def test_the_pending_list_holds_several_bulk_batches():
    # The default (4 MB) filled up with about one batch of 1,000 descriptions, and the batch
    # that overflowed it merged the whole list inside its own request.
    assert "gin_pending_list_limit=32768" in _reloptions()


def test_a_bulk_insert_asks_for_a_merge_once_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        data_bulk_create(items=[{"text": "alpha bravo", "label": "a"}])
    assert search_index.request_merge in callbacks


def test_a_rolled_back_bulk_insert_asks_for_nothing(django_capture_on_commit_callbacks):
    def insert_then_fail():
        with transaction.atomic():
            data_bulk_create(items=[{"text": "alpha bravo", "label": "a"}])
            raise RuntimeError

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        insert_then_fail()
    assert callbacks == []


def test_search_finds_rows_before_and_after_the_merge():
    data_bulk_create(items=[{"text": f"row {i} Zebrafish", "label": "a"} for i in range(50)])

    def found() -> int:
        return Data.objects.filter(text__ilike_contains="zebraf").count()

    assert found() == 50  # still in the pending list
    search_index.merge_pending()
    assert found() == 50


def test_the_merge_runs_for_a_role_that_does_not_own_the_index():
    # web serves as a role without ownership (ensure_db_role); gin_clean_pending_list needs it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE ROLE textclf_test_merge_role")
        cursor.execute("SET LOCAL ROLE textclf_test_merge_role")
        cursor.execute("SELECT data_search_merge()")
        assert cursor.fetchone()[0] >= 0
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_merges_after_a_committed_bulk_insert(monkeypatch, settings):
    settings.DATA_SEARCH_MERGE_IN_BACKGROUND = True
    merged = threading.Event()
    original = search_index.merge_pending

    def merge_and_tell() -> int:
        pages = original()
        merged.set()
        return pages

    monkeypatch.setattr(search_index, "merge_pending", merge_and_tell)
    data_bulk_create(items=[{"text": "charlie delta", "label": "a"}] * 10)

    assert merged.wait(timeout=30)
    assert Data.objects.filter(text__ilike_contains="charlie").count() == 10


def test_the_setting_turns_the_thread_off(monkeypatch, settings):
    settings.DATA_SEARCH_MERGE_IN_BACKGROUND = False
    monkeypatch.setattr(search_index._merger, "request", lambda: pytest.fail("merge requested"))
    search_index.request_merge()
