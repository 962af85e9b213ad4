"""The catalog (data dictionary, published versions, merged forms and their JSON Schemas) cached
per process, and used only while the database's catalog stamp is the one it was loaded under.

Migration 0005 gives the stamp a new value in the same transaction as any write to the field
definition, service and service version tables (triggers: the admin, seeding, bulk updates and
raw SQL cannot miss it). Readers read the stamp (one small query, once per request inside
`catalog_memo`, once per call outside) and load the catalog again when it differs, so:

- an edit committed by any process is seen by the next request of every process;
- a request that edits the catalog sees its own edit (the actions call `catalog_changed`);
- an uncommitted edit's stamp is never a committed one (stamps are never reused, even after a
  rollback), so a catalog loaded inside an edit's transaction is never served to others.

Everything handed out is shared between requests and threads: callers must not change it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.utils.translation import get_language

from .models import FieldDefinition, ServiceVersion
from .schema import MergedField, answers_validator, form_schema, merge_fields

STAMP_SQL = "SELECT stamp FROM services_catalog_stamp WHERE id = 1"


class Snapshot:
    """The catalog as of one stamp; parts are loaded when first asked for."""

    def __init__(self, stamp: int | None) -> None:
        self.stamp = stamp
        self._dictionary: dict[str, FieldDefinition] | None = None
        self._published: dict[str, ServiceVersion] | None = None
        self._versions: dict[int, ServiceVersion] = {}
        self._forms: dict[tuple[int, ...], list[MergedField]] = {}
        self._schemas: dict[tuple[tuple[int, ...], str | None], dict[str, Any]] = {}
        self._validators: dict[int, tuple[list[MergedField], Any]] = {}

    def dictionary(self) -> dict[str, FieldDefinition]:
        if self._dictionary is None:
            self._dictionary = {fd.key: fd for fd in FieldDefinition.objects.all()}
        return self._dictionary

    def published(self) -> dict[str, ServiceVersion]:
        """The published version of every active service, with its service, by slug."""
        if self._published is None:
            from .constants import VersionStatus

            self._published = {
                v.service.slug: v
                for v in ServiceVersion.objects.filter(
                    status=VersionStatus.PUBLISHED, service__active=True
                ).select_related("service")
            }
        return self._published

    def versions(self, pks: Sequence[int]) -> list[ServiceVersion]:
        """Versions (any status) with their services, by service slug."""
        missing = [pk for pk in pks if pk not in self._versions]
        if missing:
            for version in ServiceVersion.objects.filter(pk__in=missing).select_related("service"):
                self._versions[version.pk] = version
        found = (self._versions[pk] for pk in pks if pk in self._versions)
        return sorted(found, key=lambda v: v.service.slug)

    def form(self, versions: Sequence[ServiceVersion]) -> list[MergedField]:
        """The merged fields of versions given in service slug order."""
        key = tuple(v.pk for v in versions)
        merged = self._forms.get(key)
        if merged is None:
            merged = self._forms[key] = merge_fields(versions, self.dictionary())
        return merged

    def validator(self, fields: list[MergedField]) -> Any:
        """The values validator of a merged form handed out by `form` (None for any other
        list: its identity is the key, checked, so a list made elsewhere is never confused)."""
        entry = self._validators.get(id(fields))
        if entry is not None and entry[0] is fields:
            return entry[1]
        if not any(fields is merged for merged in list(self._forms.values())):  # other threads add
            return None
        validator = answers_validator(fields)
        self._validators[id(fields)] = (fields, validator)
        return validator

    def schema(self, versions: Sequence[ServiceVersion]) -> dict[str, Any]:
        """The JSON Schema of the merged form, in the active language."""
        key = (tuple(v.pk for v in versions), get_language())
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = form_schema(self.form(versions))
        return schema


_shared: Snapshot | None = None
_request_snapshot: ContextVar[Snapshot | None] = ContextVar("services_catalog", default=None)
_memo_active: ContextVar[bool] = ContextVar("services_catalog_memo_active", default=False)


def _stamp() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(STAMP_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


def current() -> Snapshot:
    """The catalog as the database has it now (as of the start of the request, inside
    `catalog_memo`)."""
    global _shared
    snapshot = _request_snapshot.get()
    if snapshot is not None:
        return snapshot
    stamp = _stamp()
    snapshot = _shared
    if snapshot is None or stamp is None or snapshot.stamp != stamp:
        snapshot = Snapshot(stamp)
        if stamp is not None:  # no stamp row: never share what cannot be checked
            _shared = snapshot
    if _memo_active.get():
        _request_snapshot.set(snapshot)
    return snapshot


@contextlib.contextmanager
def catalog_memo() -> Iterator[None]:
    """Within the block (one request), the stamp is read at most once."""
    active, memo = _memo_active.set(True), _request_snapshot.set(None)
    try:
        yield
    finally:
        _request_snapshot.reset(memo)
        _memo_active.reset(active)


def catalog_changed() -> None:
    """After a catalog write in this request: read the stamp again (the trigger changed it)."""
    _request_snapshot.set(None)
