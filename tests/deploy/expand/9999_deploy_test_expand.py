from pathlib import Path

from django.db import migrations

# It goes after whatever the release's last migration is: a fixed parent would make a second leaf
# (Django refuses to migrate) as soon as the app gains a migration of its own.
HERE = Path(__file__).resolve()
LATEST = max(p.stem for p in HERE.parent.glob("[0-9][0-9][0-9][0-9]_*.py") if p != HERE)


class Migration(migrations.Migration):
    dependencies = [("data", LATEST)]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE data ADD COLUMN deploy_test_note text NULL",
            reverse_sql="ALTER TABLE data DROP COLUMN deploy_test_note",
        )
    ]
