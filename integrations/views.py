"""The webhooks' management pages: administrators (every department) and leads (theirs) list
the subscriptions, register one (its secret shown once), change it, rotate its secret, pause,
resume or delete it, read its delivery log and replay deliveries. Anyone else gets 404, as for
the dashboards. Plain forms: no JavaScript needed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import InvalidInput
from core.pages import attempt, outcome

from . import actions, selectors
from .api import RotateInput
from .constants import DeliveryStatus, EventType
from .models import Subscription

ACTS = ("rotate", "pause", "resume", "delete", "replay-failed")
LOG_PAGE = 50


def _scope_or_404(request: HttpRequest) -> selectors.Scope:
    scope = selectors.manage_scope(user=request.user)
    if scope is None:
        raise Http404
    return scope


def _subscription_or_404(request: HttpRequest, pk: Any) -> Subscription:
    found = selectors.subscription(scope=_scope_or_404(request), pk=pk)
    if found is None:
        raise Http404
    return found


def _form(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "department": post.get("department", "")[:100],
        "url": post.get("url", "")[:1000],
        "events": [e[:50] for e in post.getlist("events")[:20]],
        "include_personal": post.get("include_personal") == "on",
        "label": post.get("label", "")[:200],
    }


def _secret_page(request: HttpRequest, subscription: Subscription, secret: str) -> HttpResponse:
    return render(
        request,
        "integrations/secret.html",
        {"subscription": subscription, "secret": secret},
    )


@require_http_methods(["GET", "POST"])
@login_required
def subscriptions(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_404(request)
    values: dict[str, Any] = {"events": list(EventType.values), "include_personal": False}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = _form(request)
        department = selectors.department_in_scope(scope=scope, slug=values["department"])
        if department is None and len(scope.departments) == 1 and not values["department"]:
            department = scope.departments[0]
        if department is None:
            errors, status = {"department": [_("Choose a department you manage.")]}, 400
        else:
            fields = {k: v for k, v in values.items() if k != "department"}
            result = outcome(
                lambda: actions.subscription_create(
                    actor=request.user, department=department, **fields
                )
            )
            if result.done:
                return _secret_page(request, result.value.subscription, result.value.secret)
            errors, status = result.errors, result.status
    context = {
        "scope": scope,
        "subscriptions": selectors.subscriptions(scope=scope),
        "event_choices": EventType.choices,
        "values": values,
        "errors": errors,
        "has_errors": bool(errors),
        "error_list": [m for ms in errors.values() for m in ms],
    }
    return render(request, "integrations/subscriptions.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def subscription(request: HttpRequest, pk: int) -> HttpResponse:
    found = _subscription_or_404(request, pk)
    errors: dict[str, list[str]] = {}
    status = 200
    values: dict[str, Any] | None = None
    if request.method == "POST":
        values = _form(request)
        fields = {k: v for k, v in values.items() if k != "department"}
        result = outcome(
            lambda: actions.subscription_update(actor=request.user, subscription=found, **fields)
        )
        if result.done:
            messages.success(request, _("The subscription was changed."))
            return redirect("integrations:webhook", pk=found.pk)
        errors, status = result.errors, result.status
    return _detail_page(request, found, values=values, errors=errors, status=status)


def _detail_page(
    request: HttpRequest,
    found: Subscription,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]],
    status: int,
    overlap_hours: str = "24",
) -> HttpResponse:
    """The subscription's page: its form with `values`, `errors` above it, its delivery log."""
    if values is None:
        values = {
            "url": found.url,
            "events": found.events,
            "include_personal": found.include_personal,
            "label": found.label,
        }
    wanted = request.GET.get("status", "")
    if wanted not in selectors.STATUSES:
        wanted = ""
    log = Paginator(selectors.deliveries(subscription=found, status=wanted), LOG_PAGE)
    context = {
        "subscription": found,
        "event_choices": EventType.choices,
        "statuses": DeliveryStatus.choices,
        "wanted": wanted,
        "page": log.get_page(request.GET.get("page")),
        "values": values,
        "errors": errors,
        "has_errors": bool(errors),
        "error_list": [m for ms in errors.values() for m in ms],
        "overlap_hours": overlap_hours,
    }
    return render(request, "integrations/subscription.html", context, status=status)


def _overlap(hours: str) -> timedelta | None:
    """The rotation's overlap from the page, read as the API reads it (0 to 720 whole hours;
    empty: the default); InvalidInput otherwise."""
    if not hours.strip():
        return None
    payload = RotateInput(data={"overlap_hours": hours})
    if not payload.is_valid():
        raise InvalidInput(
            _("Correct the overlap."),
            errors={"overlap_hours": [str(m) for m in payload.errors["overlap_hours"]]},
        )
    return timedelta(hours=payload.validated_data["overlap_hours"])


@require_POST
@login_required
def act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    if act not in ACTS:
        raise Http404
    found = _subscription_or_404(request, pk)
    actor = request.user
    if act == "rotate":
        hours = request.POST.get("overlap_hours", "")
        result = outcome(
            lambda: actions.secret_rotate(actor=actor, subscription=found, overlap=_overlap(hours))
        )
        if result.done:
            return _secret_page(request, found, result.value)
        if result.status == 400:
            return _detail_page(
                request, found, errors=result.errors, status=400, overlap_hours=hours[:20]
            )
        messages.error(request, " ".join(m for ms in result.errors.values() for m in ms))
        return redirect("integrations:webhook", pk=found.pk)
    if act == "delete":
        attempt(
            request,
            lambda: actions.subscription_delete(actor=actor, subscription=found),
            success=_("The subscription was deleted."),
        )
        return redirect("integrations:webhooks")
    done = {
        "pause": (actions.subscription_pause, _("The subscription is paused.")),
        "resume": (actions.subscription_resume, _("The subscription sends again.")),
        "replay-failed": (
            actions.deliveries_replay_failed,
            _("The failed deliveries will be sent again."),
        ),
    }
    action, message = done[act]
    attempt(request, lambda: action(actor=actor, subscription=found), success=message)
    return redirect("integrations:webhook", pk=found.pk)


@require_POST
@login_required
def replay(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    found = _subscription_or_404(request, pk)
    item = selectors.delivery(subscription=found, pk=delivery_id)
    if item is None:
        raise Http404
    attempt(
        request,
        lambda: actions.delivery_replay(actor=request.user, delivery=item),
        success=_("The delivery will be sent again."),
    )
    return redirect("integrations:webhook", pk=found.pk)
