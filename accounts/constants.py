"""Roles of the portal's users (defined in `core.roles`, which every layer may read)."""

from core.roles import STAFF_ROLES, MembershipRole, Role, StaffRole

__all__ = ["STAFF_ROLES", "MembershipRole", "Role", "StaffRole"]
