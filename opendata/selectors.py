"""Reads of releases. Releases are public: everyone reads the same ones."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from .models import Release


def releases() -> QuerySet[Release]:
    """Every release, newest month first, without their documents (the list)."""
    return Release.objects.defer("document").order_by("-period")


def release(version: int) -> Release:
    """One release by its version, or a 404."""
    found = Release.objects.filter(version=version).first()
    if found is None:
        raise Http404
    return found


def can_publish(user) -> bool:
    """Supervisors and administrators publish releases (a model-wide permission)."""
    return bool(user.is_authenticated and user.has_perm("opendata.publish_release"))
