"""What a service account's API token may do, and the DRF permission that holds the case API
to it.

A person's token carries no scope and acts with the person's own rights, as before. A service
account's token carries at least one scope and is accepted only by API views that name the
scope they need (`token_scope`): every other view refuses it in authentication
(`accounts.authentication`), so a view nobody marked is closed to department systems."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

CASES_READ = "cases:read"
CASES_DECIDE = "cases:decide"
CASES_REQUEST_INFO = "cases:request_info"
CASES_REVEAL = "cases:reveal"

SCOPES = {
    CASES_READ: _("Read cases: the inbox and a case's details (masked)"),
    CASES_DECIDE: _("Decide cases: claim, release, approve, reject"),
    CASES_REQUEST_INFO: _("Ask the citizen for information"),
    CASES_REVEAL: _("Reveal masked values, with a stated purpose"),
}


def token_scopes(auth: object) -> list[str] | None:
    """The scopes of the token a request is authenticated with; None when the token has none
    (a person's) or the request is not token-authenticated."""
    scopes = getattr(auth, "scopes", None)
    return list(scopes) if scopes else None


class TokenScope(BasePermission):
    """A scoped token must hold the view's `token_scope`; a missing one is a 403 with a
    `detail` naming it, checked before the view runs (nothing changes)."""

    message = _("This token lacks the scope this call needs.")

    def has_permission(self, request, view) -> bool:
        scopes = token_scopes(request.auth)
        if scopes is None:
            return True
        # `token_scope_also`: what the call's answer shows needs its own scope too (an action
        # on a case answers with the case, as a read does).
        needed = [getattr(view, "token_scope", None), *getattr(view, "token_scope_also", ())]
        missing = next((scope for scope in needed if scope not in scopes), None)
        if missing is None:
            return True
        self.message = _("This token lacks the scope “%(scope)s” this call needs.") % {
            "scope": missing
        }
        return False
