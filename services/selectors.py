"""Reads of the catalog and of applications, scoped to who is asking."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Department, User
from audit.presenters import access_rows
from audit.selectors import authentic, data_access_for_citizen
from core.errors import InvalidInput
from core.translations import all_values
from privacy import crypto

from . import catalog
from .answers import unseal
from .constants import VersionStatus
from .models import (
    Application,
    Attachment,
    CitizenProfile,
    FieldDefinition,
    Representation,
    Service,
    ServiceVersion,
)
from .permissions import ApplicationAccess, application_access, represented_applications
from .schema import MergedField

# Re-exported: the middleware and the actions use them through the selectors.
catalog_memo = catalog.catalog_memo
catalog_changed = catalog.catalog_changed


def dictionary() -> dict[str, FieldDefinition]:
    """The whole data dictionary by key (small: a few hundred rows at most), from the process's
    catalog cache (`services.catalog`). Callers must not change the returned definitions."""
    return catalog.current().dictionary()


# What separates the words of a search: spaces and punctuation, Chinese full-width included.
_SEPARATORS = re.compile(r"[\s,.;:!?/()\"'，。、；：！？（）“”‘’《》]+")  # noqa: RUF001
_CJK = re.compile(r"[\u3400-\u9fff]")
_SEARCHED = ("name", "description", "keywords")


def search_terms(query: str) -> list[str]:
    """The words of a search, case-folded, each once."""
    return list(dict.fromkeys(t for t in _SEPARATORS.split(query.casefold()) if t))


def _matches(row: Any, terms: list[str]) -> bool:
    """Whether a service matches every word, in any language whatever the reader's. Chinese is
    written without spaces, so a Chinese keyword inside a word also matches it: 我要搬家 finds
    the service whose keywords hold 搬家."""
    texts = all_values(row, _SEARCHED)
    haystack = " ".join(texts).casefold()
    keywords = [
        k
        for text in all_values(row, ("keywords",))
        for k in search_terms(text)
        if len(k) >= 2 and _CJK.search(k)
    ]
    return all(term in haystack or any(k in term for k in keywords) for term in terms)


def field_labels(keys: Iterable[str], *, staff: bool) -> dict[str, str]:
    """{key: label in the active language} of the dictionary's fields among `keys`: the staff
    label for staff (the citizen's where a field has none), the citizen's label otherwise."""
    catalogue = dictionary()
    return {
        key: (d.staff_label_translated if staff else d.label_translated)
        for key in keys
        if (d := catalogue.get(key)) is not None
    }


def services_published(*, query: str = "") -> QuerySet[Service]:
    """Active services that have a published version, with that version prefetched; `query`
    keeps those matching each of its words in their name, description or keywords, in any of
    their languages (a catalog holds tens of services, so the words are matched here, on the
    cached catalog)."""
    published = ServiceVersion.objects.filter(status=VersionStatus.PUBLISHED)
    available = Service.objects.filter(active=True, versions__status=VersionStatus.PUBLISHED)
    services = available.prefetch_related(
        Prefetch("versions", queryset=published, to_attr="published_versions")
    ).order_by("kind", "name")
    terms = search_terms(query)
    if terms:
        # The texts come from the process's catalog cache (no query once it is warm).
        candidates = (v.service for v in catalog.current().published().values())
        services = services.filter(pk__in=[c.pk for c in candidates if _matches(c, terms)])
    return services.distinct()


def versions_published_for(*, slugs: Iterable[str]) -> list[ServiceVersion]:
    """The published versions of the given services, in the order asked; unknown slugs skipped.
    Shared by the process (`services.catalog`): callers must not change them."""
    published = catalog.current().published()
    return [published[s] for s in dict.fromkeys(slugs) if s in published]


def versions_to_apply_for(*, slugs: Iterable[str]) -> list[ServiceVersion]:
    """The published versions of the services a citizen chose, in the order asked; any slug
    that names no published service refuses the whole choice (`InvalidInput`, per service).
    The catalog page and the API both start an application through this."""
    slugs = list(dict.fromkeys(slugs))
    versions = versions_published_for(slugs=slugs)
    missing = sorted(set(slugs) - {v.service.slug for v in versions})
    if missing:
        raise InvalidInput(
            _("Unknown service."),
            errors={"services": [_("Unknown service: %(slug)s") % {"slug": s} for s in missing]},
        )
    return versions


def applications_for_citizen(*, user: User) -> QuerySet[Application]:
    if not user.is_authenticated:
        return Application.objects.none()
    return Application.objects.filter(citizen=user).prefetch_related(
        Prefetch("versions", queryset=ServiceVersion.objects.select_related("service"))
    )


def application_of_citizen(
    *, user: User, reference: str, for_update: bool = False
) -> Application | None:
    """The citizen's own application, or None (callers answer 404: references are not confirmed).

    Its versions are not prefetched: most callers act on it, and `application_versions` reads
    them in one query when a page needs them. With `for_update` (inside the caller's
    transaction) the row is locked, as the actions lock it, so an action
    called in the same transaction does not read it again: one query for the permission check
    and the lock."""
    if not user.is_authenticated:
        return None
    applications = Application.objects.filter(citizen=user, reference=reference)
    if for_update:
        applications = applications.select_for_update().order_by()
    application = applications.first()
    if application is None:
        return None
    application.citizen = user  # the owner, known from the filter (actions name them in audit)
    if for_update:
        application._locked_in = _transaction_token()
    return application


def application_for(
    *, user: User, reference: str, for_update: bool = False
) -> tuple[Application, ApplicationAccess] | None:
    """An application the user may see (their own, or one they represent someone on) with
    what they may do with it (`services.permissions.application_access`), or None (callers
    answer 404). With `for_update` the row is locked, as `application_of_citizen` locks it."""
    if not user.is_authenticated or "\x00" in reference:
        return None
    applications = Application.objects.filter(reference=reference).select_related("citizen")
    if for_update:
        applications = applications.select_for_update(of=("self",)).order_by()
    application = applications.first()
    if application is None:
        return None
    access = application_access(user, application)
    if not access.can_view:
        return None
    if for_update:
        application._locked_in = _transaction_token()
    return application, access


def representation_history(
    application: Application, *, user: User, is_owner: bool
) -> list[Representation]:
    """The authorisations given on the application that the user may see, ended ones too,
    newest first: all of them for its owner, a representative's own otherwise."""
    rows = application.representations.select_related("representative", "revoked_by")
    if not is_owner:
        rows = rows.filter(representative=user)
    return list(rows.order_by("-created_at", "-id"))


def representations_now(history: list[Representation]) -> list[Representation]:
    """Of an application's authorisations (`representation_history`), those in force, oldest
    first."""
    return [r for r in reversed(history) if r.revoked_at is None]


def represented_by_user(*, user: User) -> QuerySet[Application]:
    """The applications the user acts on for someone else, newest first, with the applicant."""
    return (
        represented_applications(user)
        .select_related("citizen")
        .prefetch_related(
            Prefetch("versions", queryset=ServiceVersion.objects.select_related("service"))
        )
        .order_by("-created_at")
    )


def representation_of(*, application: Application, pk: int, user: User) -> Representation | None:
    """One authorisation on the application that the user gave or holds, or None."""
    return (
        application.representations.filter(pk=pk)
        .filter(Q(principal_id=user.pk) | Q(representative_id=user.pk))
        .select_related("representative")
        .first()
    )


def representations_given_to(*, user: User) -> QuerySet[Representation]:
    """Every authorisation the user was given, ended ones too, newest first."""
    if not user.is_authenticated:
        return Representation.objects.none()
    return (
        Representation.objects.filter(representative=user)
        .select_related("application", "principal", "revoked_by")
        .order_by("-created_at", "-id")
    )


def _transaction_token() -> object:
    # Django replaces the connection's list of commit hooks when a transaction ends (commit or
    # rollback) and when a savepoint is rolled back (which may release the lock): the list in
    # use identifies "this transaction, lock still held". The marker holds a reference to the
    # list, so a later list can never be the same object.
    if not connection.in_atomic_block:
        return None
    return connection.run_on_commit


def locked_in_this_transaction(application: Application) -> bool:
    """Whether `application` was read by `application_of_citizen(for_update=True)` in the
    current transaction (its row lock still held)."""
    token = getattr(application, "_locked_in", None)
    return token is not None and token is _transaction_token()


def profile_of(*, user: User) -> CitizenProfile | None:
    return CitizenProfile.objects.filter(user=user).first()


def application_form(application: Application) -> list[MergedField]:
    """The merged fields of the versions the application was started with (shared: read only)."""
    return catalog.current().form(application_versions(application))


def application_answers(application: Application) -> dict[str, Any]:
    """The application's answers in clear (for its owner; staff reads go through audited paths)."""
    return unseal(application.answers, row=application.sealing_row, dictionary=dictionary())


def profile_prefill(*, user: User, fields: list[MergedField]) -> dict[str, Any]:
    """The citizen's profile facts that a new application's fields ask for."""
    facts = profile_facts(user=user)
    return {f.key: facts[f.key] for f in fields if f.key in facts}


def profile_facts(*, user: User) -> dict:
    """The citizen's own profile facts in clear (only ever for that citizen)."""
    profile = profile_of(user=user)
    if profile is None:
        return {}
    return unseal(profile.data, row=profile.sealing_row, dictionary=dictionary())


def attachment_content(attachment: Attachment) -> bytes:
    """The plaintext bytes of a stored attachment (decrypted; a file stored before files were
    encrypted is returned as it is until `rotate_keys` encrypts it)."""
    with attachment.file.open("rb") as handle:
        stored = handle.read()
    if not attachment.key_id:
        return stored
    return crypto.decrypt_file(stored, aad=attachment.aad)


def department_names() -> dict[str, str]:
    """{slug: name in the active language} of every department."""
    return {
        d.slug: d.name_translated for d in Department.objects.only("slug", "name", "translations")
    }


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
    """The application's versions with their services, by service slug: from the prefetch when
    there is one, else the ids (one small query) and the versions from the catalog cache."""
    if "versions" in getattr(application, "_prefetched_objects_cache", {}):
        return sorted(application.versions.all(), key=lambda v: v.service.slug)
    pks = Application.versions.through.objects.filter(application_id=application.pk).values_list(
        "serviceversion_id", flat=True
    )
    return catalog.current().versions(list(pks))


def personal_data_export(*, user: User) -> dict:
    """Everything the portal holds about the citizen, in clear, for the citizen alone."""
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
                    row=application.sealing_row,
                    dictionary=catalogue,
                ),
                "attachments": [
                    {
                        "field": a.field_key,
                        "name": a.name_plain,
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
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in access_rows(authentic(data_access_for_citizen(user=user)))
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
