"""The database refuses UPDATE, DELETE and TRUNCATE on releases (opendata/guards.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from opendata import guards

    guards.install(schema_editor.connection)


def remove(apps, schema_editor):
    from opendata import guards

    guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("opendata", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
