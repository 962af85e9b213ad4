"""Staff must use two-factor authentication: one without it is sent to set it up first."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

# Pages a staff member without MFA may still use: signing in and out, setting up MFA, assets.
_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz")


class StaffMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.PORTAL_STAFF_MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and user.is_portal_staff
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            if request.path.startswith("/api/"):
                # Session calls only: token calls authenticate later, in DRF, and are exempt.
                return JsonResponse(
                    {"detail": _("Set up two-factor authentication first.")}, status=403
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
