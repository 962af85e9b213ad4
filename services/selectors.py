"""Reads of the catalog and of applications, scoped to who is asking."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User

from .constants import VersionStatus
from .models import (
    Application,
    Attachment,
    CitizenProfile,
    FieldDefinition,
    Service,
    ServiceVersion,
)

# The dictionary read once per request (`catalog_memo`): saving one form reads it four to eight
# times (merge, prefill, seal, unseal, the response's schema), each a query of every row with
# its JSON columns. Per request, not per process, so an edit is seen by the next request.
_dictionary_memo: ContextVar[dict[str, FieldDefinition] | None] = ContextVar(
    "services_dictionary_memo", default=None
)
_memo_active: ContextVar[bool] = ContextVar("services_dictionary_memo_active", default=False)


@contextlib.contextmanager
def catalog_memo() -> Iterator[None]:
    """Within the block (one request), `dictionary()` queries the database at most once."""
    active, memo = _memo_active.set(True), _dictionary_memo.set(None)
    try:
        yield
    finally:
        _dictionary_memo.reset(memo)
        _memo_active.reset(active)


def forget_dictionary() -> None:
    """Drop the memoised dictionary (after a field definition is saved in this request)."""
    _dictionary_memo.set(None)


def dictionary() -> dict[str, FieldDefinition]:
    """The whole data dictionary by key (small: a few hundred rows at most). Callers must not
    change the returned definitions: inside `catalog_memo` they are shared by the request."""
    memo = _dictionary_memo.get()
    if memo is not None:
        return memo
    result = {fd.key: fd for fd in FieldDefinition.objects.all()}
    if _memo_active.get():
        _dictionary_memo.set(result)
    return result


def services_published(*, query: str = "") -> QuerySet[Service]:
    """Active services that have a published version, with that version prefetched."""
    published = ServiceVersion.objects.filter(status=VersionStatus.PUBLISHED)
    services = (
        Service.objects.filter(active=True, versions__status=VersionStatus.PUBLISHED)
        .prefetch_related(Prefetch("versions", queryset=published, to_attr="published_versions"))
        .order_by("kind", "name")
    )
    query = query.strip()
    if query:
        services = services.filter(
            Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(keywords__icontains=query)
        )
    return services.distinct()


def versions_published_for(*, slugs: Iterable[str]) -> list[ServiceVersion]:
    """The published versions of the given services, in the order asked; unknown slugs skipped."""
    slugs = list(dict.fromkeys(slugs))
    found = {
        v.service.slug: v
        for v in ServiceVersion.objects.filter(
            status=VersionStatus.PUBLISHED, service__slug__in=slugs, service__active=True
        ).select_related("service")
    }
    return [found[s] for s in slugs if s in found]


def applications_for_citizen(*, user: User) -> QuerySet[Application]:
    if not user.is_authenticated:
        return Application.objects.none()
    return Application.objects.filter(citizen=user).prefetch_related(
        Prefetch("versions", queryset=ServiceVersion.objects.select_related("service"))
    )


def application_of_citizen(*, user: User, reference: str) -> Application | None:
    """The citizen's own application, or None (callers answer 404: references are not confirmed).

    Its versions are not prefetched: most callers act on it, and `application_versions` reads
    them in one query when a page needs them."""
    if not user.is_authenticated:
        return None
    return Application.objects.filter(citizen=user, reference=reference).first()


def profile_of(*, user: User) -> CitizenProfile | None:
    return CitizenProfile.objects.filter(user=user).first()


def profile_facts(*, user: User) -> dict:
    """The citizen's own profile facts in clear (only ever for that citizen)."""
    from .answers import unseal

    profile = profile_of(user=user)
    if profile is None:
        return {}
    return unseal(profile.data, row=f"profile:{user.pk}", dictionary=dictionary())


def attachment_content(attachment: Attachment) -> bytes:
    """The plaintext bytes of a stored attachment (decrypted; a file stored before files were
    encrypted is returned as it is until `rotate_keys` encrypts it)."""
    from audit import crypto

    with attachment.file.open("rb") as handle:
        stored = handle.read()
    if not attachment.key_id:
        return stored
    return crypto.decrypt_file(stored, aad=attachment.aad)


def version_departments(version: ServiceVersion) -> list[str]:
    """The departments a version's workflow may involve, in step order, each once."""
    return list(dict.fromkeys(step["department"] for step in version.workflow.get("steps", [])))


def catalog_entry(*, service: Service, fields_by_key: dict[str, FieldDefinition]) -> dict:
    """What the catalog shows of a service: its published version and the form's JSON Schema."""
    from .schema import form_schema, merge_fields

    version = service.published_versions[0]
    version.service = service
    return {
        "slug": service.slug,
        "name": service.name_translated,
        "description": service.description_translated,
        "kind": service.kind,
        "version": version.number,
        "departments": version_departments(version),
        "form": form_schema(merge_fields([version], fields_by_key), title=service.name_translated),
    }


def application_versions(application: Application) -> list[ServiceVersion]:
    """The application's versions with their services, by service slug (one query at most)."""
    versions = application.versions.all()
    if "versions" not in getattr(application, "_prefetched_objects_cache", {}):
        versions = versions.select_related("service")
    return sorted(versions, key=lambda v: v.service.slug)


def cases_of_application(application: Application) -> list:
    """The departments' parts of an application, for its owner: status only, in step order."""
    return list(application.cases.select_related("department", "version__service").order_by("id"))


def open_information_requests(application: Application) -> list:
    """Questions from departments that wait for the citizen's answer."""
    from workflows.models import InformationRequest

    return list(
        InformationRequest.objects.filter(
            case__application=application, replied_at__isnull=True, case__status="awaiting_citizen"
        )
        .select_related("case__department")
        .order_by("asked_at")
    )


def personal_data_export(*, user: User) -> dict:
    """Everything the portal holds about the citizen, in clear, for the citizen alone."""
    from audit.presenters import access_row
    from audit.selectors import data_access_for_citizen

    from .answers import unseal

    catalogue = dictionary()
    applications = []
    for application in applications_for_citizen(user=user).prefetch_related(
        "attachments", "cases__department"
    ):
        applications.append(
            {
                "reference": application.reference,
                "status": application.status,
                "services": [v.service.slug for v in application.versions.all()],
                "created_at": application.created_at.isoformat(),
                "submitted_at": application.submitted_at.isoformat()
                if application.submitted_at
                else None,
                "answers": unseal(
                    application.answers,
                    row=f"application:{application.reference}",
                    dictionary=catalogue,
                ),
                "attachments": [
                    {
                        "field": a.field_key,
                        "name": a.original_name,
                        "type": a.content_type,
                        "size": a.size,
                    }
                    for a in application.attachments.all()
                ],
                "cases": [
                    {"department": c.department.slug, "step": c.step, "status": c.status}
                    for c in application.cases.all()
                ],
            }
        )
    access = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in access_row(e).items()}
        for e in data_access_for_citizen(user=user)
    ]
    return {
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "joined": user.date_joined.isoformat(),
        },
        "profile": profile_facts(user=user),
        "applications": applications,
        "data_access": access,
    }
