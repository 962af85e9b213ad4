"""Secrets at rest: no clear API keys, no clear MFA secrets.

- DRF's `authtoken_token` table held every API key in clear. Its keys are not carried over as
  digests: whoever could read the database knows them, so they are deleted and the table is
  dropped (owners get new tokens with `issue_token`).
- TOTP secrets and recovery-code seeds of allauth's authenticators are encrypted with the
  personal-data keys (accounts/mfa_secrets.py). Values already encrypted are left as they are;
  the keys must be configured when there are authenticators to encrypt.
"""

from django.db import migrations

OLD_TABLE = "authtoken_token"


def drop_clear_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{OLD_TABLE}"')
    schema_editor.execute(f'DROP TABLE "{OLD_TABLE}"')


def encrypt_mfa_secrets(apps, schema_editor):
    from privacy import crypto

    def secured(value):
        # The associated data of accounts/mfa_secrets.py, written out: a migration is frozen.
        if crypto.is_encrypted(value):
            return value
        return crypto.encrypt(value, aad="allauth.mfa.authenticator")

    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.exclude(type="webauthn").order_by("pk").iterator():
        data = dict(row.data)
        for field in ("secret", "seed"):
            if isinstance(data.get(field), str):
                data[field] = secured(data[field])
        if isinstance(data.get("migrated_codes"), list):
            data["migrated_codes"] = [secured(c) for c in data["migrated_codes"]]
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_token"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.RunPython(drop_clear_tokens, migrations.RunPython.noop),
        migrations.RunPython(encrypt_mfa_secrets, migrations.RunPython.noop),
    ]
