"""Admin: users, departments and memberships (writes go through the audited actions)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import JsonExamples, NamedActionAdmin

from . import actions
from .constants import MembershipRole
from .models import ApiToken, Department, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["department", "role", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "staff_role", "is_active", "date_joined"]
    list_filter = ["staff_role", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (_("Roles"), {"fields": ["staff_role", "is_active", "is_staff", "is_superuser"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # A service account (a department's system) never holds a portal-wide role; it is
        # managed on the service accounts pages (accounts/service_accounts.py).
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_service_account:
            fields += ["staff_role", "is_staff", "is_superuser", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        actions.user_admin_save(
            actor=request.user, user=obj, fields=form.changed_data, created=not change
        )

    def user_change_password(self, request, id, form_url=""):
        # Django's page saves the new password itself; the event and the revocation of the
        # user's API tokens commit with it or not at all.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                actions.user_password_changed(actor=request.user, user=user)
        return response


@admin.register(Department)
class DepartmentAdmin(JsonExamples, NamedActionAdmin, admin.ModelAdmin):
    list_display = ["name_shown", "slug", "contact_email", "active"]
    search_fields = ["name", "slug"]
    fields = ["slug", "name", "translations", "contact_email", "contact_phone", "active"]
    json_examples = {
        "translations": [(_("The name in other languages, for example:"), '{"en": {"name": "…"}}')]
    }

    refused = actions.AccountError

    def update(self, request, obj):
        actions.department_update(
            actor=request.user,
            department=Department.objects.get(pk=obj.pk),
            name=obj.name,
            contact_email=obj.contact_email,
            contact_phone=obj.contact_phone,
            active=obj.active,
            translations=obj.translations,
        )

    def create(self, request, obj):
        created = actions.department_create(
            actor=request.user,
            slug=obj.slug,
            name=obj.name,
            contact_email=obj.contact_email,
            contact_phone=obj.contact_phone,
            translations=obj.translations,
        )
        obj.pk, obj.group_id = created.pk, created.group_id
        obj.lead_group_id = created.lead_group_id


class MembershipForm(forms.ModelForm):
    """Refuses in the form what `membership_grant` refuses, so the admin shows the message
    instead of failing on save."""

    class Meta:
        model = Membership
        fields = ["user", "department", "role"]

    def clean(self):
        data = super().clean()
        user = data.get("user") or getattr(self.instance, "user", None)
        department = data.get("department") or getattr(self.instance, "department", None)
        role = data.get("role")
        allowed = (
            user is None
            or department is None
            or not user.is_service_account
            or (role == MembershipRole.CLERK and department.pk == user.service_department_id)
        )
        if not allowed:
            raise forms.ValidationError(
                _("A service account is a clerk of its own department only.")
            )
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "department", "role", "created_at"]
    list_filter = ["department", "role"]
    search_fields = ["user__email"]
    # A plain id field with its lookup link: select2's widget has no accessible name (axe).
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "department"] if obj else []

    def save_model(self, request, obj, form, change):
        actions.membership_grant(
            actor=request.user, user=obj.user, department=obj.department, role=obj.role
        )

    def delete_model(self, request, obj):
        actions.membership_revoke(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "department"):
            actions.membership_revoke(actor=request.user, membership=membership)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen (never their key or digest) and revoked; they are issued with
    `manage.py issue_token` or by their owner's scripts, not here."""

    list_display = ["prefix", "user", "label", "scopes", "created_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "prefix", "label"]
    fields = ["user", "prefix", "label", "scopes", "created_at", "expires_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        actions.token_revoke(actor=request.user, token=obj)

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            actions.token_revoke(actor=request.user, token=token)


# Django stores a permission's name in English when it creates it ("Can add email address"); the
# admin shows it from its codename and the model's name, in the reader's language.
_PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """'app | model | what it allows', each part in the reader's language."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in _PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = _PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)
    return f"{content_type} | {name}"


class PermissionsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:
        return permission_label(obj)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Django's group admin, with the permissions named in the reader's language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "permissions":
            kwargs["form_class"] = PermissionsField
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)
