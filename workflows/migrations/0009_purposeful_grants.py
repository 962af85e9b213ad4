"""Grants made purposeful: leads' groups get `assign_case` on their department's open cases,
and the per-user `change_case` grants that claiming and assigning used to add (the
department's group already holds it) are removed."""

from django.db import migrations

ACTIVE = ("open", "in_progress", "awaiting_citizen", "pending")


def _permission(apps, codename, name):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _created = ContentType.objects.get_or_create(app_label="workflows", model="case")
    permission, _created = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def forwards(apps, schema_editor):
    Case = apps.get_model("workflows", "Case")
    Department = apps.get_model("accounts", "Department")
    GroupGrant = apps.get_model("workflows", "CaseGroupObjectPermission")
    UserGrant = apps.get_model("workflows", "CaseUserObjectPermission")
    assign = _permission(apps, "assign_case", "Can assign a case to a member of staff")
    _permission(apps, "consult_case", "Can read a shared case's chosen fields and give an opinion")
    UserGrant.objects.all().delete()
    for department in Department.objects.exclude(lead_group__isnull=True):
        ids = Case.objects.filter(department=department, status__in=ACTIVE).values_list(
            "pk", flat=True
        )
        GroupGrant.objects.bulk_create(
            [
                GroupGrant(permission=assign, group_id=department.lead_group_id, content_object_id=pk)
                for pk in ids.iterator()
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0008_consultation_delegation"),
        ("accounts", "0007_lead_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
