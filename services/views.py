"""The citizen's pages: catalog, the form page by page, check answers, submit, follow, profile.

Every page works without JavaScript. Views parse input, get objects through selectors (a
missing or foreign application is a 404) and call one action. The rules of the task list and
of the pages' order are in `services.tasklist` (docs/journeys.md).

Over 400 lines because it is the citizen's whole journey, page after page (catalog, form, task
list, check answers, confirmation, answers, withdraw, erase, profile); each view is short.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.constants import Role
from accounts.selectors import memberships_for_user
from core.pages import attempt, attempt_in_form, outcome

from . import actions, hooks, masking, permissions, selectors, tasklist
from .answers import is_sealed_field
from .constants import ApplicationStatus
from .fields import kind_for
from .forms import RepresentativeForm, SectionForm, ServiceChoiceForm, html_name
from .models import Application
from .permissions import ApplicationAccess
from .schema import MergedField, required_keys

_HOME_TEMPLATES = {
    Role.CITIZEN: "accounts/home_citizen.html",
    Role.CLERK: "accounts/home_staff.html",
    Role.LEAD: "accounts/home_staff.html",
    Role.SUPERVISOR: "accounts/home_staff.html",
    Role.ADMIN: "accounts/home_staff.html",
}


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "accounts/home_anonymous.html")
    role = Role(request.user.primary_role)
    context = {"role": role, "memberships": memberships_for_user(user=request.user)}
    if role == Role.CITIZEN:
        context["applications"] = selectors.applications_for_citizen(user=request.user)[:100]
    return render(request, _HOME_TEMPLATES[role], context)


def own_application(request: HttpRequest, reference: str) -> Application:
    application = selectors.application_of_citizen(user=request.user, reference=reference)
    if application is None:
        raise Http404
    return application


def application_with_access(
    request: HttpRequest,
    reference: str,
    need: str = permissions.VIEW,
    *,
    for_update: bool = False,
) -> tuple[Application, ApplicationAccess]:
    """An application the user may see (their own, or one they represent its applicant on):
    404 otherwise; 403 when they see it but lack `need` (`services.permissions`). Pages and the
    API both use it (DRF answers Django's 404 and 403 in its error format)."""
    found = selectors.application_for(user=request.user, reference=reference, for_update=for_update)
    if found is None:
        raise Http404
    if need not in found[1].perms:
        raise PermissionDenied
    return found


def _return_to_review(request: HttpRequest) -> bool:
    """Whether the page was opened from "Check your answers" ("Change"): only that one value
    of `return` is honoured, so the parameter can never send the citizen elsewhere."""
    return request.GET.get("return") == "review"


@require_http_methods(["GET", "POST"])
def catalog(request: HttpRequest) -> HttpResponse:
    """Browse and search services; choose one or more for one application."""
    query = request.GET.get("q", "")[:100]
    services = list(selectors.services_published(query=query))
    choices = [(s.slug, s.name_translated) for s in selectors.services_published()]
    form = ServiceChoiceForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={reverse('services:catalog')}")
        if form.is_valid():
            created = attempt_in_form(
                form,
                lambda: actions.application_create(
                    citizen=request.user,
                    versions=selectors.versions_to_apply_for(slugs=form.cleaned_data["services"]),
                ),
            )
            if created.done:
                return redirect(
                    "services:application-first-page", reference=created.value.reference
                )
    names = selectors.department_names()
    departments = {
        s.slug: [names.get(d, d) for d in selectors.version_departments(s.published_versions[0])]
        for s in services
    }
    return render(
        request,
        "services/catalog.html",
        {"services": services, "query": query, "form": form, "departments": departments},
    )


@login_required
def application_first_page(request: HttpRequest, reference: str) -> HttpResponse:
    """Where a draft resumes: the task list of a long application, else its first page."""
    application = own_application(request, reference)
    fields = selectors.application_form(application)
    if tasklist.uses_task_list(fields):
        return redirect("services:application-tasks", reference=reference)
    pages = tasklist.pages(fields, selectors.application_answers(application))
    return redirect("services:application-page", reference=reference, section=pages[0].key)


@login_required
def application_tasks(request: HttpRequest, reference: str) -> HttpResponse:
    """The task list: each section with its status, then "Check your answers"."""
    application = own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return redirect("services:application-detail", reference=reference)
    fields = selectors.application_form(application)
    if not tasklist.uses_task_list(fields):
        return redirect("services:application-first-page", reference=reference)
    answers = selectors.application_answers(application)
    sections = tasklist.sections(fields, answers, application.sections_done or [])
    return render(
        request,
        "services/application_tasks.html",
        {
            "application": application,
            "versions": selectors.application_versions(application),
            "sections": sections,
            "completed": sum(1 for s in sections if s.status == tasklist.COMPLETED),
            "review_status": tasklist.review_status(sections),
            "review_label": tasklist.STATUS_LABELS[tasklist.review_status(sections)],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_page(request: HttpRequest, reference: str, section: str) -> HttpResponse:
    """One page of the form. Saving keeps a draft; conditional questions appear once they apply.

    On a long application the page ends with "Have you completed this section?" and leads back
    to the task list; opened from "Check your answers" (`?return=review`) it leads back there.
    """
    application = own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return redirect("services:application-detail", reference=reference)
    fields = selectors.application_form(application)
    answers = selectors.application_answers(application)
    all_sections = tasklist.sections(fields, answers, application.sections_done or [])
    index = next((i for i, s in enumerate(all_sections) if s.key == section and s.fields), None)
    if index is None:
        raise Http404
    page = all_sections[index]
    with_tasks = tasklist.uses_task_list(fields)
    to_review = _return_to_review(request)
    posted = request.method == "POST"  # an empty POST (nothing ticked) is still a submission
    form = SectionForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        fields=page.fields,
        required=required_keys(fields, answers),
        values=answers,
        ask_completed=with_tasks and not to_review,
        completed=page.status == tasklist.COMPLETED,
    )
    here = reverse("services:application-page", args=[reference, section])
    if to_review:
        here += "?return=review"
    if posted and form.is_valid():
        saved = attempt_in_form(
            form,
            lambda: actions.application_page_save(
                application=application,
                actor=request.user,
                uploads=form.uploads(),
                answers=form.answers(),
                section=section,
                completed=form.completed() if with_tasks and not to_review else None,
            ),
        )
        if saved.done:
            return _after_save(request, saved.value, fields, page, here, with_tasks, to_review)
    attachments = {a.field_key: a for a in application.attachments.all()}
    if to_review:
        back = reverse("services:application-review", args=[reference])
    elif with_tasks:
        back = reverse("services:application-tasks", args=[reference])
    else:
        earlier = [s.key for s in all_sections[:index] if s.fields]
        back = (
            reverse("services:application-page", args=[reference, earlier[-1]]) if earlier else None
        )
    return render(
        request,
        "services/application_page.html",
        {
            "application": application,
            "form": form,
            "title": page.title,
            "step": index + 1,
            "steps": len(all_sections),
            "back": back,
            "attachments": {html_name(k): v for k, v in attachments.items()},
            "has_files": any(kind_for(f.definition.type).is_file for f in page.fields),
        },
    )


def _after_save(
    request: HttpRequest,
    application: Application,
    fields: list[MergedField],
    page: tasklist.Section,
    here: str,
    with_tasks: bool,
    to_review: bool,
) -> HttpResponse:
    """Where a saved page leads: this page again when a new question of it now applies, else
    check answers (a "Change"), the task list (a long application) or the next page."""
    reference = application.reference
    if "save_draft" in request.POST:
        messages.success(
            request, _("Your answers are saved. You can come back to them at any time.")
        )
        return redirect("home")
    new_pages = tasklist.pages(fields, selectors.application_answers(application))
    now = next((p.fields for p in new_pages if p.key == page.key), [])
    if {f.key for f in now} - {f.key for f in page.fields}:
        # An answer on this page made another question on it apply: ask it now.
        messages.info(
            request, _("Your answers are saved. Please answer the new question on this page.")
        )
        return redirect(here)
    if to_review:
        return redirect("services:application-review", reference=reference)
    if with_tasks:
        return redirect("services:application-tasks", reference=reference)
    following = [p.key for p in new_pages]
    position = following.index(page.key) if page.key in following else -1
    if 0 <= position < len(following) - 1:
        return redirect(
            "services:application-page", reference=reference, section=following[position + 1]
        )
    return redirect("services:application-review", reference=reference)


def _answer_rows(
    fields: list[MergedField],
    answers: dict[str, Any],
    attachments: dict[str, Any],
    *,
    masked: bool = False,
) -> list[dict]:
    """The answers by section, as the citizen reads them; `masked`: personal values masked
    as staff see them before a reveal (the pages kept after submission)."""
    result = []
    for page in tasklist.pages(fields, answers):
        rows = []
        for merged in page.fields:
            definition = merged.definition
            kind = kind_for(definition.type)
            value = answers.get(merged.key)
            if masked and value is not None and not kind.is_file and is_sealed_field(definition):
                shown = masking.mask(definition, value)
            else:
                shown = kind.display(value, definition, attachment=attachments.get(merged.key))
            rows.append({"key": merged.key, "label": definition.label_translated, "value": shown})
        result.append({"section": page.key, "title": page.title, "rows": rows})
    return result


@login_required
@require_http_methods(["GET", "POST"])
def application_review(request: HttpRequest, reference: str) -> HttpResponse:
    """Check your answers, then submit."""
    application = own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return redirect("services:application-detail", reference=reference)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        submitted = outcome(
            lambda: actions.application_submit(application=application, actor=request.user)
        )
        if submitted.done:
            return redirect("services:application-confirmation", reference=reference)
        errors = submitted.errors
    fields = selectors.application_form(application)
    answers = selectors.application_answers(application)
    attachments = {a.field_key: a for a in application.attachments.all()}
    labels = {f.key: f.definition.label_translated for f in fields}
    section_of = {f.key: f.definition.section for f in fields}
    error_list = [
        {
            "label": labels.get(key, ""),
            "message": message,
            "section": section_of.get(key),
            "anchor": html_name(key),
        }
        for key, messages_ in errors.items()
        for message in messages_
    ]
    return render(
        request,
        "services/application_review.html",
        {
            "application": application,
            "sections": _answer_rows(fields, answers, attachments),
            "errors": error_list,
            "has_errors": bool(error_list),
            "with_tasks": tasklist.uses_task_list(fields),
        },
    )


def _submitted_application(request: HttpRequest, reference: str) -> Application:
    """The application once submitted (a draft has nothing submitted: 404), for its owner and
    its representatives."""
    application, _access = application_with_access(request, reference)
    if application.submitted_at is None:
        raise Http404
    return application


@login_required
def application_confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmation with the reference, kept reachable from the application's page."""
    application = _submitted_application(request, reference)
    return render(
        request,
        "services/application_confirmation.html",
        {"application": application, "versions": selectors.application_versions(application)},
    )


@login_required
def application_submitted_answers(request: HttpRequest, reference: str) -> HttpResponse:
    """What the citizen submitted (with any corrections sent since in reply to a department),
    personal values masked as on every page kept after submission."""
    application = _submitted_application(request, reference)
    fields = selectors.application_form(application)
    answers = {} if application.erased_at else selectors.application_answers(application)
    attachments = {a.field_key: a for a in application.attachments.all()}
    return render(
        request,
        "services/application_answers.html",
        {
            "application": application,
            "sections": _answer_rows(fields, answers, attachments, masked=True) if answers else [],
        },
    )


@login_required
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """Where the application stands: overall and, once routed, per department; for its owner
    and its representatives (each sees what they may do)."""
    application, access = application_with_access(request, reference)
    return detail_page(request, application, access)


def detail_page(
    request: HttpRequest,
    application: Application,
    access: ApplicationAccess,
    *,
    form: RepresentativeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The application's page (a refused representative form is shown again on it)."""
    versions = selectors.application_versions(application)
    cases, questions = hooks.parts_of(application)
    receipt_url, letters = hooks.documents_of(application, cases)
    for case in cases:
        case.letter_url = letters.get(case.reference)
    history = selectors.representation_history(
        application, user=request.user, is_owner=access.is_owner
    )
    return render(
        request,
        "services/application_detail.html",
        {
            "application": application,
            "versions": versions,
            "cases": cases,
            "questions": questions,
            "receipt_url": receipt_url,
            "is_draft": application.status == ApplicationStatus.DRAFT,
            "access": access,
            "representatives": selectors.representations_now(history) if access.is_owner else [],
            "representation_history": history,
            "representative_form": form
            or (RepresentativeForm() if access.is_owner and not application.erased_at else None),
        },
        status=status,
    )


def _ask_then(
    request: HttpRequest, reference: str, act: Any, success: str, template: str, context: dict
) -> HttpResponse:
    """A change to an application that asks first: GET shows the page that asks (`template`),
    POST runs `act` (its success or refusal as a message) and goes back to the application."""
    if request.method == "POST":
        attempt(request, act, success=success)
        return redirect("services:application-detail", reference=reference)
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def application_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    application, _access = application_with_access(request, reference, permissions.WITHDRAW)
    can_withdraw = application.status not in (
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.COMPLETED,
    )
    return _ask_then(
        request,
        reference,
        lambda: actions.application_withdraw(application=application, actor=request.user),
        _("Your application was withdrawn."),
        "services/application_withdraw.html",
        {"application": application, "can_withdraw": can_withdraw},
    )


@login_required
def attachment_download(request: HttpRequest, reference: str, token: str) -> FileResponse:
    """A file of the application (for its owner and its representatives); served with its
    sniffed type, as a download, never inline HTML."""
    application, _access = application_with_access(request, reference)
    attachment = application.attachments.filter(token=token).first()
    if attachment is None:
        raise Http404
    return FileResponse(
        io.BytesIO(selectors.attachment_content(attachment)),
        as_attachment=True,
        filename=attachment.name_plain,
        content_type=attachment.content_type,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The citizen's stable facts, used to prefill new applications."""
    fields = [MergedField(definition=f) for f in selectors.dictionary().values() if f.profile_field]
    facts = selectors.profile_facts(user=request.user)
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        fields=fields,
        required=set(),
        values=facts,
    )
    if request.method == "POST" and form.is_valid():
        saved = attempt_in_form(
            form, lambda: actions.profile_update(user=request.user, facts=form.answers())
        )
        if saved.done:
            messages.success(request, _("Your profile is saved."))
            return redirect("services:profile")
    return render(request, "services/profile.html", {"form": form})


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The citizen's data as a JSON download (the download is recorded)."""
    import json

    actions.personal_data_export_record(user=request.user)
    data = selectors.personal_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def application_erase(request: HttpRequest, reference: str) -> HttpResponse:
    """Erasing cannot be undone: GET asks on its own page, POST erases."""
    application, _access = application_with_access(request, reference, permissions.ERASE)
    closed = application.status in actions.CLOSED_STATES and application.erased_at is None
    return _ask_then(
        request,
        reference,
        lambda: actions.application_erase(
            application=application, actor=request.user, reason="citizen request"
        ),
        _("The personal data of this application was erased."),
        "services/application_erase.html",
        {"application": application, "closed": closed},
    )
