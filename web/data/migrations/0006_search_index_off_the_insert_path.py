"""Take the trigram index off a bulk insert's path (data.search_index).

Extracting and inserting a description's trigrams is ~95% of Postgres's work per inserted row
(BENCHMARKS.md, "History: 2026-12-03 (h5)"). A bulk insert now writes `search_ready = false`;
the trigram index covers only `search_ready` rows, and a small partial index on `id` lists the
rest, which a web thread then marks ready (and so indexes) behind the import. A search reads
both: the index for the ready rows, the backlog directly (data.search_index.matching).

The column has a constant database default (true: a release that does not know it indexes its
rows as it writes them, as before). Both indexes are built CONCURRENTLY, so a big table keeps
taking writes while they build; the old index is dropped the same way once the new one is
valid. That drop is this release's contract step: the release before it searches with a plain
`text ILIKE`, which the partial index cannot answer, so during a roll, or after a rollback past
this release, its searches read the table (correct, seconds at a million rows, bounded by
DATABASE_STATEMENT_TIMEOUT_MS) until this release runs again (README, "Migrations").

`data_search_merge()` now merges the new index (the release before calls it after its bulk
inserts too); `data_search_analyze()` refreshes the statistics of `search_ready` after a backlog
is drained: statistics taken while a backlog existed would otherwise keep the planner from the
trigram index for rare words. Both run as their owner (ANALYZE and gin_clean_pending_list need
the table's owner, which web's role is not) and do only that.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION data_search_merge() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT gin_clean_pending_list('data_text_trgm_ready_idx'::regclass) $$;
CREATE FUNCTION data_search_analyze() RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ ANALYZE data (search_ready) $$;
"""

FUNCTIONS_BACKWARD = """
DROP FUNCTION data_search_analyze();
CREATE OR REPLACE FUNCTION data_search_merge() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT gin_clean_pending_list('data_text_trgm_idx'::regclass) $$;
"""


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    dependencies = [
        ("data", "0005_trigram_index_background_merge"),
    ]

    operations = [
        migrations.AddField(
            model_name="data",
            name="search_ready",
            field=models.BooleanField(db_default=True),
        ),
        AddIndexConcurrently(
            model_name="data",
            index=GinIndex(
                fields=["text"],
                opclasses=["gin_trgm_ops"],
                name="data_text_trgm_ready_idx",
                condition=models.Q(search_ready=True),
            ),
        ),
        AddIndexConcurrently(
            model_name="data",
            index=models.Index(
                fields=["id"],
                name="data_search_backlog_idx",
                condition=models.Q(search_ready=False),
            ),
        ),
        migrations.RunSQL(FUNCTIONS, FUNCTIONS_BACKWARD),
        RemoveIndexConcurrently(model_name="data", name="data_text_trgm_idx"),
    ]
