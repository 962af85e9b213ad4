"""Pages: the user's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import actions
from .selectors import tokens_for_owner


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


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switcher (sets the language cookie and redirects to `next`); for a
    signed-in person the choice is also stored on their account, so it follows them to another
    browser and to the emails the portal sends them."""
    from django.conf import settings
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and language != request.user.language
    ):
        actions.user_language_set(actor=request.user, user=request.user, language=language)
    return response
