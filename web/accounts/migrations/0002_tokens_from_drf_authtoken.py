"""Move DRF's plaintext tokens into accounts.ApiToken as digests, so every existing key keeps
working, then delete the plaintext rows: afterwards no usable key is stored at rest."""

from django.db import migrations
from knox.crypto import hash_token
from knox.settings import CONSTANTS


def forwards(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for old in Token.objects.all().iterator():
        new = ApiToken.objects.create(
            user_id=old.user_id,
            name="migrated",
            token_key=old.key[: CONSTANTS.TOKEN_KEY_LENGTH],
            digest=hash_token(old.key),
            expiry=None,
        )
        # auto_now_add stamped it now; keep when the key was really issued.
        ApiToken.objects.filter(pk=new.pk).update(created=old.created)
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    # There is no way back: the plaintext keys are gone.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
