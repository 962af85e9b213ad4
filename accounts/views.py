"""Pages: the home page, which is different for each role; the user's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import actions
from .constants import Role
from .selectors import memberships_for_user, tokens_for_owner

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
        from services.selectors import applications_for_citizen

        context["applications"] = applications_for_citizen(user=request.user)[:100]
    return render(request, _HOME_TEMPLATES[role], context)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens (prefix, label, dates; the key is shown only when issued)."""
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens_for_owner(user=request.user)[:200], "now": timezone.now()},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = tokens_for_owner(user=request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404
    actions.token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token %(prefix)s… was revoked.") % {"prefix": token.prefix})
    return redirect("tokens")


@login_required
@require_POST
def tokens_revoke_all(request: HttpRequest) -> HttpResponse:
    count = actions.tokens_revoke_all(actor=request.user, user=request.user, reason="owner")
    messages.success(request, _("Tokens revoked: %(count)d.") % {"count": count})
    return redirect("tokens")
