"""Decision notes and reasons, questions, replies and case notes are sealed like answers
(privacy/freetext.py): the values stored before in clear are sealed now, each bound to its row."""

from django.db import migrations

# model, column, and the row part of the associated data (as the models' sealed_text_aad).
COLUMNS = [
    ("Case", "decision_note", lambda row: f"case:{row.reference}"),
    ("InformationRequest", "message", lambda row: f"information_request:{row.pk}"),
    ("InformationRequest", "reply", lambda row: f"information_request:{row.pk}"),
    ("CaseNote", "text", lambda row: f"case_note:{row.pk}"),
]


def seal_clear_text(apps, schema_editor):
    from privacy import crypto

    for model_name, column, row_aad in COLUMNS:
        model = apps.get_model("workflows", model_name)
        pending = model.objects.exclude(**{column: ""}).order_by("pk")
        for row in pending.iterator(chunk_size=500):
            value = getattr(row, column)
            if crypto.is_encrypted(value):
                continue
            token = crypto.encrypt(value, aad=f"{row_aad(row)}:{column}")
            model.objects.filter(pk=row.pk).update(**{column: token})


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0005_inbox_indexes"),
    ]

    operations = [
        migrations.RunPython(seal_clear_text, migrations.RunPython.noop, elidable=True),
    ]
