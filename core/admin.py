"""Shared pieces of the admin site."""

from __future__ import annotations


class ReadOnlyAdmin:
    """A model admin that lists and shows rows but never adds, changes or deletes them: records
    (audit events, incidents, heartbeats) are written by the portal's actions, never by hand.
    Mix in before `admin.ModelAdmin`."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
