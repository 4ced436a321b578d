"""An exact row count of `data` that costs one row read, kept by statement-level triggers.

`SELECT count(*) FROM data` reads every index entry (or every heap page when the visibility
map is stale): tens of milliseconds at 1M rows, growing with the table, on every first page
of GET /api/data/. Instead, `data_row_count` holds the count, adjusted in the same
transaction by each INSERT/COPY, DELETE and TRUNCATE statement on `data` (transition tables:
one UPDATE per statement, not per row). Concurrent writers queue briefly on that one row
until they commit. DataQuerySet.count() reads it for unfiltered querysets.

The table is not a Django model on purpose: Django's test flush truncates model tables only,
and its TRUNCATE of `data` fires the trigger that zeroes the count.
"""

from django.db import migrations

FORWARD = """
CREATE TABLE data_row_count (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    n bigint NOT NULL CHECK (n >= 0)
);
INSERT INTO data_row_count (n) SELECT count(*) FROM data;

CREATE FUNCTION data_row_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_row_count SET n = n + (SELECT count(*) FROM changed_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION data_row_count_subtract() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_row_count SET n = n - (SELECT count(*) FROM changed_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION data_row_count_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_row_count SET n = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER data_row_count_insert AFTER INSERT ON data
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_row_count_add();
CREATE TRIGGER data_row_count_delete AFTER DELETE ON data
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_row_count_subtract();
CREATE TRIGGER data_row_count_truncate AFTER TRUNCATE ON data
    FOR EACH STATEMENT EXECUTE FUNCTION data_row_count_reset();
"""

BACKWARD = """
DROP TRIGGER data_row_count_truncate ON data;
DROP TRIGGER data_row_count_delete ON data;
DROP TRIGGER data_row_count_insert ON data;
DROP FUNCTION data_row_count_reset();
DROP FUNCTION data_row_count_subtract();
DROP FUNCTION data_row_count_add();
DROP TABLE data_row_count;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0002_text_trigram_index"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
