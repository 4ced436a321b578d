from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("data", "0003_data_row_count")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE data ADD COLUMN deploy_test_note text NULL",
            reverse_sql="ALTER TABLE data DROP COLUMN deploy_test_note",
        )
    ]
