"""Let bulk inserts leave the trigram index's merge to a background call (data.search_index).

A GIN index first appends new entries to its pending list, then merges that list into the
tree once it passes gin_pending_list_limit (4 MB by default: about one 1,000-row batch of
Debian descriptions), inside whichever INSERT/COPY crossed it. That merge is about half of
Postgres's CPU per bulk batch (BENCHMARKS.md, "History"). At 32 MB a batch only appends; web
then asks `data_search_merge()` to merge after commit, on its own connection, and an insert
that finds the list over the limit while such a merge runs skips its own (Postgres's
ginInsertCleanup), so the request path pays the append only. The limit still bounds what a
search scans when no background merge runs (e.g. the previous release's inserts).

Expand only: a release that does not know the function keeps inserting and merging inline
as before. gin_clean_pending_list needs the index's owner, which web's role is not (ensure_db_role):
the function runs as its owner (SECURITY DEFINER, pinned search_path) and does only that.
ALTER INDEX ... SET takes a short exclusive lock on the index; lock_timeout makes a busy
table fail the migration quickly instead of queueing every request behind it.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

# The model's GinIndex names the same value (data.models).
SEARCH_PENDING_LIST_KB = 32768

FORWARD = f"""
SET LOCAL lock_timeout = '10s';
ALTER INDEX data_text_trgm_idx SET (gin_pending_list_limit = {SEARCH_PENDING_LIST_KB});
CREATE FUNCTION data_search_merge() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT gin_clean_pending_list('data_text_trgm_idx'::regclass) $$;
"""

BACKWARD = """
DROP FUNCTION data_search_merge();
ALTER INDEX data_text_trgm_idx RESET (gin_pending_list_limit);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0004_provenance_and_feedback"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            # Django has no "alter index": the same index, with its storage parameter.
            state_operations=[
                migrations.RemoveIndex(model_name="data", name="data_text_trgm_idx"),
                migrations.AddIndex(
                    model_name="data",
                    index=GinIndex(
                        fields=["text"],
                        name="data_text_trgm_idx",
                        opclasses=["gin_trgm_ops"],
                        gin_pending_list_limit=SEARCH_PENDING_LIST_KB,
                    ),
                ),
            ],
        )
    ]
