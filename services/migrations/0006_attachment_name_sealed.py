"""File names are sealed like answers (privacy/freetext.py): a longer column for the token, and
the names stored before in clear are sealed now."""

from django.db import migrations, models


def seal_clear_names(apps, schema_editor):
    from privacy import crypto

    Attachment = apps.get_model("services", "Attachment")
    pending = Attachment.objects.exclude(original_name="").order_by("pk")
    for attachment in pending.iterator(chunk_size=500):
        if crypto.is_encrypted(attachment.original_name):
            continue
        # The associated data of Attachment.sealed_text_aad("original_name").
        token = crypto.encrypt(
            attachment.original_name, aad=f"attachment:{attachment.token}:original_name"
        )
        Attachment.objects.filter(pk=attachment.pk).update(original_name=token)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0005_catalog_stamp"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attachment",
            name="original_name",
            field=models.CharField(max_length=1200, verbose_name="file name"),
        ),
        migrations.RunPython(seal_clear_names, migrations.RunPython.noop, elidable=True),
    ]
