"""The workbench's consultation pages: the "consulted" tab, sharing a case for an opinion,
withdrawing a sharing, and the consultee's opinion (workflows.consultations)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pages import attempt, outcome

from . import consultations, selectors
from .views import _case, _render_case, _staff_or_404


@login_required
def consulted(request: HttpRequest) -> HttpResponse:
    """The cases other departments shared with the user (or a department of theirs)."""
    _staff_or_404(request)
    return render(
        request,
        "workflows/consulted.html",
        {"rows": selectors.consulted_for_user(user=request.user)},
    )


@login_required
@require_POST
def case_share(request: HttpRequest, reference: str) -> HttpResponse:
    """Share the case for an opinion; a refusal re-shows the case page with the form's errors."""
    case = _case(request, reference)
    post = request.POST
    shared = outcome(
        lambda: consultations.case_share_from_input(
            case=case,
            actor=request.user,
            department=post.get("department", "")[:50],
            official=post.get("official", "")[:254],
            reason=post.get("reason", "")[:5000],
            fields=post.getlist("fields")[:100],
            expires_at=post.get("expires_at", "")[:40],
        )
    )
    if not shared.done:
        return _render_case(request, case, errors=shared.errors, status=shared.status)
    messages.success(request, _("The case was shared."))
    return redirect("workflows:case", reference=reference)


@login_required
@require_POST
def case_share_revoke(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _case(request, reference)
    consultation = selectors.case_consultation(case=case, pk=pk)
    if consultation is None:
        raise Http404
    attempt(
        request,
        lambda: consultations.case_share_revoke(consultation=consultation, actor=request.user),
        success=_("The sharing was withdrawn."),
    )
    return redirect("workflows:case", reference=reference)


@login_required
@require_POST
def case_opinion(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case(request, reference)
    added = outcome(
        lambda: consultations.case_opinion_add(
            case=case, actor=request.user, text=request.POST.get("text", "")[:5000]
        )
    )
    if not added.done:  # (a refusal of the actor, 403, is the forbidden page)
        return _render_case(request, case, errors=added.errors, status=added.status)
    messages.success(request, _("Your opinion was added."))
    return redirect("workflows:case", reference=reference)
