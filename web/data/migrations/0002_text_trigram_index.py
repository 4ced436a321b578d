"""A trigram index for ?search= (case-insensitive substring, `text ILIKE '%...%'`).

pg_trgm is a trusted extension (Postgres >= 13): the database owner may create it. The index
is built CONCURRENTLY so that migrating a populated table does not block writes; that cannot
run inside a transaction, hence atomic = False.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("data", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="data",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["text"], name="data_text_trgm_idx", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
