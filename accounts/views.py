"""Pages: the home page, which is different for each role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .constants import Role
from .selectors import memberships_for_user

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
