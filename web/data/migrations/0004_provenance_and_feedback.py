"""Provenance of `data` rows (source, created_by, verified) and the feedback table.

Expand only: the new columns are nullable or carry database defaults (constants, so Postgres
adds them without rewriting the table), so the release before this one, which inserts rows
without them (COPY included), keeps working during the roll and after a rollback: its rows
read as "imported", by nobody, verified. No index on the big table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0003_data_row_count"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Feedback",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("predicted_label", models.CharField(max_length=100)),
                ("model_version", models.CharField(max_length=100)),
                ("correct", models.BooleanField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "db_table": "data_feedback",
            },
        ),
        migrations.AddField(
            model_name="data",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="data",
            name="source",
            field=models.CharField(
                choices=[
                    ("imported", "Imported"),
                    ("entered", "Entered"),
                    ("feedback", "Feedback"),
                ],
                db_default="imported",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="data",
            name="verified",
            field=models.BooleanField(db_default=True),
        ),
        migrations.AddConstraint(
            model_name="data",
            constraint=models.CheckConstraint(
                condition=models.Q(("source__in", ["imported", "entered", "feedback"])),
                name="data_source_valid",
            ),
        ),
        migrations.AddField(
            model_name="feedback",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="feedback",
            name="data",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="feedback", to="data.data"
            ),
        ),
        migrations.AddIndex(
            model_name="feedback",
            index=models.Index(fields=["model_version"], name="data_feedback_version_idx"),
        ),
    ]
