"""The citizen's pages: catalog, the form page by page, check answers, submit, follow, profile.

Every page works without JavaScript. Views parse input, get objects through selectors (a
missing or foreign application is a 404) and call one action.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.constants import Role
from accounts.selectors import memberships_for_user
from core.pages import attempt, attempt_in_form, outcome

from . import actions, hooks, selectors
from .constants import ApplicationStatus
from .fields import kind_for
from .forms import SectionForm, ServiceChoiceForm, html_name
from .models import Application
from .schema import MergedField, applicable_keys, required_keys

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


def _sections(
    fields: list[MergedField], answers: dict[str, Any]
) -> list[tuple[str, str, list[MergedField]]]:
    """Pages in order of first appearance: (section, title, the fields that apply now)."""
    applies = applicable_keys(fields, answers)
    pages: dict[str, tuple[str, list[MergedField]]] = {}
    for merged in fields:
        if not applies[merged.key]:
            continue
        section = merged.definition.section
        pages.setdefault(section, (merged.definition.section_title, []))[1].append(merged)
    return [(section, title, items) for section, (title, items) in pages.items()]


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
    departments = {s.slug: selectors.version_departments(s.published_versions[0]) for s in services}
    return render(
        request,
        "services/catalog.html",
        {"services": services, "query": query, "form": form, "departments": departments},
    )


@login_required
def application_first_page(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(request, reference)
    fields = selectors.application_form(application)
    pages = _sections(fields, selectors.application_answers(application))
    return redirect("services:application-page", reference=reference, section=pages[0][0])


@login_required
@require_http_methods(["GET", "POST"])
def application_page(request: HttpRequest, reference: str, section: str) -> HttpResponse:
    """One page of the form. Saving keeps a draft; conditional questions appear once they apply."""
    application = own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return redirect("services:application-detail", reference=reference)
    fields = selectors.application_form(application)
    answers = selectors.application_answers(application)
    pages = _sections(fields, answers)
    index = next((i for i, page in enumerate(pages) if page[0] == section), None)
    if index is None:
        raise Http404
    _section, title, page_fields = pages[index]
    required = required_keys(fields, answers)
    posted = request.method == "POST"  # an empty POST (nothing ticked) is still a submission
    form = SectionForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        fields=page_fields,
        required=required,
        values=answers,
    )
    if request.method == "POST" and form.is_valid():
        saved = attempt_in_form(
            form,
            lambda: actions.application_page_save(
                application=application,
                actor=request.user,
                uploads=form.uploads(),
                answers=form.answers(),
            ),
        )
        if saved.done:
            application = saved.value
            if "save_draft" in request.POST:
                messages.success(
                    request, _("Your answers are saved. You can come back to them at any time.")
                )
                return redirect("home")
            new_answers = selectors.application_answers(application)
            new_pages = _sections(fields, new_answers)
            shown = {f.key for f in page_fields}
            now = next((p[2] for p in new_pages if p[0] == section), [])
            if {f.key for f in now} - shown:
                # An answer on this page made another question on it apply: ask it now.
                messages.info(
                    request,
                    _("Your answers are saved. Please answer the new question on this page."),
                )
                return redirect("services:application-page", reference=reference, section=section)
            following = [p[0] for p in new_pages]
            position = following.index(section) if section in following else -1
            if 0 <= position < len(following) - 1:
                return redirect(
                    "services:application-page",
                    reference=reference,
                    section=following[position + 1],
                )
            return redirect("services:application-review", reference=reference)
    attachments = {a.field_key: a for a in application.attachments.all()}
    return render(
        request,
        "services/application_page.html",
        {
            "application": application,
            "form": form,
            "title": title,
            "step": index + 1,
            "steps": len(pages),
            "previous": pages[index - 1][0] if index > 0 else None,
            "attachments": {html_name(k): v for k, v in attachments.items()},
            "has_files": any(kind_for(f.definition.type).is_file for f in page_fields),
        },
    )


def _review_rows(
    fields: list[MergedField], answers: dict[str, Any], attachments: dict[str, Any]
) -> list[dict]:
    sections = []
    for section, title, page_fields in _sections(fields, answers):
        rows = []
        for merged in page_fields:
            definition = merged.definition
            shown = kind_for(definition.type).display(
                answers.get(merged.key), definition, attachment=attachments.get(merged.key)
            )
            rows.append({"key": merged.key, "label": definition.label_translated, "value": shown})
        sections.append({"section": section, "title": title, "rows": rows})
    return sections


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
            return redirect("services:application-detail", reference=reference)
        errors = submitted.errors
    fields = selectors.application_form(application)
    answers = selectors.application_answers(application)
    attachments = {a.field_key: a for a in application.attachments.all()}
    sections = _review_rows(fields, answers, attachments)
    labels = {f.key: f.definition.label_translated for f in fields}
    section_of = {f.key: f.definition.section for f in fields}
    error_list = [
        {"label": labels.get(key, ""), "message": message, "section": section_of.get(key)}
        for key, messages_ in errors.items()
        for message in messages_
    ]
    return render(
        request,
        "services/application_review.html",
        {"application": application, "sections": sections, "errors": error_list},
    )


@login_required
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """Where the application stands: overall and, once routed, per department."""
    application = own_application(request, reference)
    versions = selectors.application_versions(application)
    cases, questions = hooks.parts_of(application)
    receipt_url, letters = hooks.documents_of(application, cases)
    for case in cases:
        case.letter_url = letters.get(case.reference)
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
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(request, reference)
    if request.method == "POST":
        attempt(
            request,
            lambda: actions.application_withdraw(application=application, actor=request.user),
            success=_("Your application was withdrawn."),
        )
        return redirect("services:application-detail", reference=reference)
    return render(request, "services/application_withdraw.html", {"application": application})


@login_required
def attachment_download(request: HttpRequest, reference: str, token: str) -> FileResponse:
    """The owner's own file; served with its sniffed type, as a download, never inline HTML."""
    application = own_application(request, reference)
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
@require_http_methods(["POST"])
def application_erase(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(request, reference)
    attempt(
        request,
        lambda: actions.application_erase(
            application=application, actor=request.user, reason="citizen request"
        ),
        success=_("The personal data of this application was erased."),
    )
    return redirect("services:application-detail", reference=reference)
