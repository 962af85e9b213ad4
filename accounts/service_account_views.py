"""Pages: a department's service accounts (its back-office systems), for administrators (every
department) and the department's leads (their own). Everyone else: 404. A new key is shown once,
on the page that answers the form that issued it, and never again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import InvalidInput
from core.pages import attempt, outcome

from . import selectors
from . import service_accounts as sa
from .models import ApiToken, User
from .scopes import SCOPES
from .selectors import user_by_email

CREATE_FIELDS = ("department", "label", "responsible")


def _manager_or_404(request: HttpRequest) -> None:
    if not selectors.may_manage(request.user):
        raise Http404


def _account(request: HttpRequest, pk: int) -> User:
    _manager_or_404(request)
    account = selectors.service_accounts_for(user=request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


def _token(request: HttpRequest, pk: int, token_id: int) -> ApiToken:
    token = selectors.service_tokens(account=_account(request, pk)).filter(pk=token_id).first()
    if token is None:
        raise Http404
    return token


def _errors(errors: dict) -> dict[str, Any]:
    return {
        "errors": errors,
        "error_list": [m for ms in errors.values() for m in ms],
        "has_errors": bool(errors),
    }


def _list(request: HttpRequest, *, errors: dict | None = None, values=None, status=200):
    departments = list(selectors.departments_managed(user=request.user))
    return render(
        request,
        "accounts/service_accounts.html",
        {
            "accounts": selectors.service_accounts_for(user=request.user)[:500],
            "departments": departments,
            "candidates": [
                (d, list(selectors.responsible_candidates(department=d))) for d in departments
            ],
            "values": values or {},
            **_errors(errors or {}),
        },
        status=status,
    )


def _create(request: HttpRequest) -> User:
    post = request.POST
    department = next(
        (
            d
            for d in selectors.departments_managed(user=request.user)
            if d.slug == post.get("department")
        ),
        None,
    )
    if department is None:
        raise InvalidInput(
            _("The service account was not created."),
            errors={"department": [_("Choose a department you manage.")]},
        )
    email = post.get("responsible", "").strip()[:254]
    return sa.service_account_create(
        actor=request.user,
        department=department,
        label=post.get("label", "")[:200],
        responsible=user_by_email(email=email, active=True) if email else None,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def service_accounts(request: HttpRequest) -> HttpResponse:
    """GET: the service accounts of the departments one manages; POST: create one."""
    _manager_or_404(request)
    if request.method == "GET":
        return _list(request)
    created = outcome(lambda: _create(request))
    if created.done:
        messages.success(request, _("The service account was created."))
        return redirect("service-account", created.value.pk)
    values = {k: request.POST.get(k, "")[:254] for k in CREATE_FIELDS}
    return _list(request, errors=created.errors, values=values, status=created.status)


def _detail(
    request: HttpRequest,
    account: User,
    *,
    issued: sa.IssuedToken | None = None,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "accounts/service_account.html",
        {
            "account": account,
            "tokens": selectors.service_tokens(account=account),
            "now": timezone.now(),
            "scopes": list(SCOPES.items()),
            "issued": issued,
            "values": values or {"days": 90, "scopes": []},
            "max_days": sa.MAX_TOKEN_DAYS,
            **_errors(errors or {}),
        },
        status=status,
    )


@never_cache
@login_required
def service_account(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _account(request, pk))


def _days(value: str) -> int | None:
    try:
        return int(value.strip()[:6])
    except ValueError:
        return None


@never_cache
@login_required
@require_POST
def service_token_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a token; the page that answers shows its key, once."""
    account = _account(request, pk)
    scopes = [s[:40] for s in request.POST.getlist("scopes")[:10]]
    days = request.POST.get("days", "")
    result = outcome(
        lambda: sa.service_token_issue(
            actor=request.user,
            account=account,
            scopes=scopes,
            days=_days(days),
            label=request.POST.get("label", "")[:100],
        )
    )
    if result.done:
        return _detail(request, account, issued=result.value)
    values = {"scopes": scopes, "days": days[:6], "label": request.POST.get("label", "")[:100]}
    return _detail(request, account, errors=result.errors, values=values, status=result.status)


@never_cache
@login_required
@require_POST
def service_token_rotate(request: HttpRequest, pk: int, token_id: int) -> HttpResponse:
    """A new key for the token, shown once; the old key stays valid for the overlap."""
    token = _token(request, pk, token_id)
    overlap = _days(request.POST.get("overlap_hours", "24"))
    result = outcome(
        lambda: sa.service_token_rotate(
            actor=request.user, token=token, overlap_hours=-1 if overlap is None else overlap
        )
    )
    if result.done:
        return _detail(request, token.user, issued=result.value)
    return _detail(request, token.user, errors=result.errors, status=result.status)


def _then_back(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    """Run a button's action (its success or refusal as a message), back to the account."""
    attempt(request, action, success=success)
    return redirect("service-account", pk)


@login_required
@require_POST
def service_token_revoke(request: HttpRequest, pk: int, token_id: int) -> HttpResponse:
    token = _token(request, pk, token_id)
    return _then_back(
        request,
        pk,
        lambda: sa.service_token_revoke(actor=request.user, token=token),
        _("The token %(prefix)s… was revoked.") % {"prefix": token.prefix},
    )


@login_required
@require_POST
def service_tokens_revoke_all(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    return _then_back(
        request,
        pk,
        lambda: sa.service_tokens_revoke_all(actor=request.user, account=account),
        _("Every token of this service account was revoked."),
    )


@login_required
@require_POST
def service_account_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    return _then_back(
        request,
        pk,
        lambda: sa.service_account_deactivate(actor=request.user, account=account),
        _("The service account was deactivated; its tokens no longer work."),
    )
