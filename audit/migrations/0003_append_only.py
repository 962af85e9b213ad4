"""The database refuses UPDATE, DELETE and TRUNCATE on the audit tables (audit/guards.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from audit import guards

    guards.install(schema_editor.connection, guards.RECORDED_V1)


def remove(apps, schema_editor):
    from audit import guards

    guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain")]

    operations = [migrations.RunPython(install, remove)]
