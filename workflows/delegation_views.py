"""The delegations page of the workbench: every member sees the delegations to and from them;
a lead sees all of their departments' (current, to come, over), creates one and withdraws one.
The actions and the reads are in `workflows.delegation`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Department, User
from accounts.selectors import user_by_email
from core.errors import InvalidInput
from core.pages import attempt, outcome

from . import delegation
from .delegation import DelegationForbidden
from .models import Delegation, DelegationScope

# How many delegations that are over the page lists (newest first).
PAST_SHOWN = 50
FORM_FIELDS = ("department", "delegator", "delegate", "scope", "starts_at", "ends_at")


def _staff_or_404(request: HttpRequest) -> None:
    if not request.user.is_portal_staff:
        raise Http404


def _day(value: str, *, after: bool = False) -> dt.datetime | None:
    """A day typed in the form (YYYY-MM-DD) as the start of that day in the portal's time
    zone; `after`: the start of the next day (an "until" day is included)."""
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if after:
        if day >= dt.date.max:
            return None
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _member(email: str) -> User | None:
    email = (email or "").strip()
    if not email or len(email) > 254:
        return None
    return user_by_email(email=email, active=True)


def _create(request: HttpRequest, led: list[Department]) -> Delegation:
    """The form's delegation, through `delegation.delegation_create` (which says why not)."""
    if not led:
        raise DelegationForbidden(_("Only a lead of the department can delegate its work."))
    post = request.POST
    slug = post.get("department", "")[:100]
    department = next((d for d in led if d.slug == slug), None)
    if department is None and not slug and len(led) == 1:
        department = led[0]
    if department is None:
        raise InvalidInput(
            _("The delegation was not created."),
            errors={"department": [_("Choose a department you lead.")]},
        )
    starts_at = _day(post.get("starts_at", "")[:20])
    ends_at = _day(post.get("ends_at", "")[:20], after=True)
    return delegation.delegation_create(
        actor=request.user,
        department=department,
        delegator=_member(post.get("delegator", "")),
        delegate=_member(post.get("delegate", "")),
        scope=post.get("scope", "")[:20],
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _members(departments: list[Department]) -> list[User]:
    """Whom a lead may choose, absent member or delegate: the active members of the
    departments they lead."""
    if not departments:
        return []
    return list(
        User.objects.filter(groups__in=[d.group_id for d in departments], is_active=True)
        .distinct()
        .order_by("email")
    )


def _rows(user: User, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """The visible delegations by state, each with what the user may do with it."""
    led = {d.pk for d in delegation.led_departments(user=user)}
    groups: dict[str, list[dict[str, Any]]] = {"current": [], "future": [], "past": []}
    for item in delegation.delegations_visible(user=user)[:500]:
        state = delegation.state(item, now)
        group = "past" if state in ("past", "revoked") else state
        if group == "past" and len(groups["past"]) >= PAST_SHOWN:
            continue
        groups[group].append(
            {
                "delegation": item,
                "state": state,
                "to_me": item.delegate_id == user.pk,
                "from_me": item.delegator_id == user.pk,
                "can_revoke": group != "past"
                and (item.department_id in led or item.delegator_id == user.pk),
                # The last day included (the delegation ends at the start of the next one).
                "last_day": timezone.localtime(item.ends_at - dt.timedelta(microseconds=1)),
            }
        )
    return groups


def _render(
    request: HttpRequest, *, errors: dict | None = None, values: dict | None = None, status=200
) -> HttpResponse:
    now = timezone.now()
    led = list(delegation.led_departments(user=request.user))
    today = timezone.localdate(now)
    errors = errors or {}
    return render(
        request,
        "workflows/delegations.html",
        {
            "groups": _rows(request.user, now),
            "led": led,
            "members": _members(led),
            "scopes": DelegationScope.choices,
            "values": values
            or {
                "starts_at": today.isoformat(),
                "ends_at": (today + dt.timedelta(days=6)).isoformat(),
                "scope": DelegationScope.CASES,
            },
            "errors": errors,
            "error_list": [m for ms in errors.values() for m in ms],
            "has_errors": bool(errors),
            "max_days": delegation.MAX_PERIOD.days,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    """GET: the delegations the user may see; POST: a lead creates one (refusals re-show the
    form with the reasons; a member who leads nothing gets 403)."""
    _staff_or_404(request)
    if request.method == "GET":
        return _render(request)
    led = list(delegation.led_departments(user=request.user))
    created = outcome(lambda: _create(request, led))
    if created.done:
        messages.success(request, _("The delegation was created."))
        return redirect("workflows:delegations")
    values = {k: request.POST.get(k, "")[:254] for k in FORM_FIELDS}
    return _render(request, errors=created.errors, values=values, status=created.status)


@login_required
@require_POST
def delegation_revoke(request: HttpRequest, delegation_id: int) -> HttpResponse:
    """Withdraw a delegation: a lead of its department, or the absent member; the delegate
    and other members are refused (403), a delegation the user does not see is not found."""
    _staff_or_404(request)
    item = delegation.delegation_for_user(user=request.user, pk=delegation_id)
    if item is None:
        raise Http404
    attempt(
        request,
        lambda: delegation.delegation_revoke(actor=request.user, delegation=item),
        success=_("The delegation was withdrawn."),
    )
    return redirect("workflows:delegations")
