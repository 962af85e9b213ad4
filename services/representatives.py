"""Representatives on the citizen's pages: the applicant authorises another citizen on the
application's page and revokes them there; the representative lists the applications they act
on and may step down. The rights are `services.permissions`; the writes
`services.actions.representation`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.pages import attempt, attempt_in_form

from . import actions, selectors
from .forms import RepresentativeForm
from .views import application_with_access, detail_page


@login_required
@require_http_methods(["POST"])
def representative_grant(request: HttpRequest, reference: str) -> HttpResponse:
    """The applicant authorises a citizen found by email and national ID."""
    application, access = application_with_access(request, reference)
    form = RepresentativeForm(request.POST)
    if form.is_valid():
        granted = attempt_in_form(
            form,
            lambda: actions.representation_grant(
                application=application,
                actor=request.user,
                email=form.cleaned_data["email"],
                national_id=form.cleaned_data["national_id"],
                may_withdraw=form.cleaned_data["may_withdraw"],
                may_erase=form.cleaned_data["may_erase"],
            ),
        )
        if granted.done:
            messages.success(
                request,
                _("%(name)s can now act for you on this application.")
                % {"name": granted.value.representative.full_name or granted.value.representative},
            )
            return redirect("services:application-detail", reference=reference)
    return detail_page(request, application, access, form=form, status=400)


@login_required
@require_http_methods(["POST"])
def representative_revoke(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    """The applicant revokes an authorisation, or the representative steps down."""
    application, _access = application_with_access(request, reference)
    representation = selectors.representation_of(application=application, pk=pk, user=request.user)
    if representation is None:
        raise Http404
    attempt(
        request,
        lambda: actions.representation_revoke(representation=representation, actor=request.user),
        success=_("The authorisation was revoked."),
    )
    if representation.representative_id == request.user.pk:
        return redirect("services:represented")
    return redirect("services:application-detail", reference=reference)


@login_required
def represented(request: HttpRequest) -> HttpResponse:
    """The applications the user acts on for someone else, and the authorisations they had."""
    return render(
        request,
        "services/represented.html",
        {
            "applications": selectors.represented_by_user(user=request.user)[:100],
            "history": selectors.representations_given_to(user=request.user)[:100],
        },
    )
