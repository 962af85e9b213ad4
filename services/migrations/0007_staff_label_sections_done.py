"""Staff wording for fields, and the sections a citizen marked as completed on the task list.

On SQLite, adding a column with a default rebuilds the table, which drops its triggers; the
catalog stamp's triggers on `services_fielddefinition` (see 0005) are created again here.
"""

from django.db import migrations, models

EVENTS = ("INSERT", "UPDATE", "DELETE")
TABLE = "services_fielddefinition"


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in EVENTS:
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS services_catalog_touch_{TABLE}_{event.lower()}"
            f" AFTER {event} ON {TABLE}"
            " BEGIN UPDATE services_catalog_stamp SET stamp = random() WHERE id = 1; END",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0006_attachment_name_sealed"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="sections_done",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="fielddefinition",
            name="staff_label",
            field=models.CharField(
                blank=True, default="", max_length=200, verbose_name="staff label"
            ),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
