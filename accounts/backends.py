"""Model-wide permissions that come with a portal-wide role (`User.staff_role`).

A supervisor reads every case, application and audit event: that is the model-wide `view_*`
permission of each, which this backend gives them, so access checks ask for a permission and
never for a role. Administrators are superusers and hold every permission already. Nothing here
lets anyone act on a case: acting needs an object permission (workflows.permissions)."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from core.roles import StaffRole

ROLE_PERMISSIONS = {
    StaffRole.SUPERVISOR: frozenset(
        {
            "workflows.view_case",
            "services.view_application",
            "audit.view_auditevent",
            # Open statistics are anonymised; publishing one is an oversight duty.
            "opendata.publish_release",
            # The whole city's dashboard (oversight), read-only.
            "oversight.view_city_dashboard",
        }
    ),
}


class StaffRoleBackend(BaseBackend):
    """Grants the permissions of `ROLE_PERMISSIONS`; authenticates nobody."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return set(ROLE_PERMISSIONS.get(user_obj.staff_role, ()))

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)
