"""Every department gets its leads' group (object permissions only leads hold are granted to
it), with the department's current leads in it."""

from django.db import migrations


def forwards(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    Group = apps.get_model("auth", "Group")
    Membership = apps.get_model("accounts", "Membership")
    for department in Department.objects.filter(lead_group__isnull=True):
        group, _created = Group.objects.get_or_create(name=f"department:{department.slug}:leads")
        department.lead_group = group
        department.save(update_fields=["lead_group"])
        for membership in Membership.objects.filter(department=department, role="lead"):
            membership.user.groups.add(group)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_department_lead_group")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
