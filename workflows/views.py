"""The workbench pages: the inbox and a case, for clerks, leads and (read-only) supervisors."""

from __future__ import annotations

import io
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import departments_for_user
from core.pages import attempt, outcome
from services.selectors import attachment_content
from services.validators import is_valid_national_id

from . import actions, delegation, selectors
from .constants import FINAL_CASE_STATES, CaseStatus
from .filters import ACTIVE, InboxQuery, parse_inbox_query
from .models import Case


def _staff_or_404(request: HttpRequest) -> None:
    if not request.user.is_portal_staff:
        raise Http404


def _case(request: HttpRequest, reference: str) -> Case:
    case = selectors.case_for_user(user=request.user, reference=reference)
    if case is None:
        raise Http404
    return case


def _shown_count(counts: dict[str, int], statuses: list[str]) -> str:
    """A tab's count over some statuses; "1000+" when one reached its counting limit."""
    limits = selectors.count_limits()
    total = str(sum(counts[s] for s in statuses))
    return f"{total}+" if any(counts[s] >= limits[s] for s in statuses) else total


# The last national-ID search, kept in the user's browser session: the ids of the cases found,
# under a random key the result page's address carries. Never the number (nor its blind index).
SEARCH_SESSION_KEY = "workbench_national_id_search"


def _search_result(request: HttpRequest) -> tuple[str, tuple[int, ...] | None]:
    key = request.GET.get("search", "")[:64]
    if not key:
        return "", None
    stored = request.session.get(SEARCH_SESSION_KEY) or {}
    if stored.get("key") != key:
        messages.info(request, _("That search is over. Search by national ID again."))
        return "", None
    return key, tuple(stored.get("cases", []))


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    query = parse_inbox_query(request.GET, default_status=ACTIVE)
    if query.national_id_in_q:
        # Refused, not searched (no case is listed): the number is already in this request's
        # address (logs, history); the search by national ID is a POST form.
        error = _("Search for a national ID with the national ID search form.")
        return _render_inbox(request, query, found=(), errors={"q": [error]})
    search_key, found = _search_result(request)
    if search_key:
        query.params["search"] = search_key
    return _render_inbox(request, query, found=found, errors={})


@login_required
@require_POST
def inbox_search(request: HttpRequest) -> HttpResponse:
    """Find cases by a national ID sent in the body, never in an address: the search is
    audited, its result (case ids) kept in the session, and the browser redirected to the inbox
    under a random key (post/redirect/get)."""
    _staff_or_404(request)
    number = request.POST.get("national_id", "")[:40].strip()
    if not is_valid_national_id(number):
        error = _("Enter a valid 18-character national ID.")
        query = parse_inbox_query({}, default_status=ACTIVE)
        return _render_inbox(request, query, found=None, errors={"national_id": [error]})
    cases = selectors.cases_by_national_id(user=request.user, national_id=number)
    actions.case_search_record(actor=request.user, cases=cases)
    key = secrets.token_urlsafe(16)
    request.session[SEARCH_SESSION_KEY] = {"key": key, "cases": [c.pk for c in cases]}
    return redirect(f"{reverse('workflows:inbox')}?{urlencode({'status': 'all', 'search': key})}")


def _render_inbox(
    request: HttpRequest, inbox_query: InboxQuery, *, found: tuple[int, ...] | None, errors: dict
) -> HttpResponse:
    cases = selectors.inbox(user=request.user, filters=inbox_query.filters(case_ids=found))
    counts = selectors.status_counts(cases)
    if inbox_query.statuses is not None:
        cases = cases.filter(status__in=inbox_query.statuses)
    rows, cursor = selectors.page_by_due_date(
        cases, cursor=request.GET.get("cursor", "")[:200], size=50
    )
    # Whom the user covers for now (a delegation): a notice, and their cases marked.
    covering = delegation.covering(user=request.user)
    pairs = {(d.department_id, d.delegator_id) for d in covering}
    for row in rows:
        row.covered = (row.department_id, row.assignee_id) in pairs
    params, status = inbox_query.params, inbox_query.status
    query = request.GET.copy()
    if "q" in query:  # a refused national ID is not carried on to the next page's address
        query["q"] = params["q"]
    query["cursor"] = cursor or ""
    return render(
        request,
        "workflows/inbox.html",
        {
            "cases": rows,
            "counts": counts,
            "params": params,
            "status": status,
            "tabs": [
                (
                    "active",
                    _("To do"),
                    _shown_count(counts, ["open", "in_progress", "awaiting_citizen"]),
                ),
                *[
                    (value, label, _shown_count(counts, [value]))
                    for value, label in CaseStatus.choices
                ],
            ],
            "departments": departments_for_user(user=request.user),
            "covering": covering,
            "next_query": query.urlencode() if cursor else "",
            "searched": found is not None and not errors,
            "found": len(found or ()),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    revealed: dict | None = None,
    errors: dict | None = None,
    status: int = 400,
):
    view = actions.case_read(case=case, user=request.user)
    access = selectors.access_of(user=request.user, case=case)
    own = selectors.is_own_case(user=request.user, case=case)
    return render(
        request,
        "workflows/case.html",
        {
            "case": case,
            "rows": view["rows"],
            "withheld": view["withheld"],
            "own": own,
            "revealed": revealed or {},
            "errors": errors or {},
            "has_errors": bool(errors),  # the page's title starts with "Error: "
            "timeline": selectors.case_timeline(case=case, consultee=access.is_consultee),
            "siblings": selectors.sibling_cases(case=case),
            # Staff act on their department's cases, never on their own application.
            "can_act": not own and access.can_act,
            "can_reveal": not own and (access.can_act or access.is_consultee),
            "is_lead": not own and access.can_assign,
            "access": access,
            "colleagues": selectors.assignee_choices(case=case),
            "question": None
            if access.is_consultee
            else case.information_requests.filter(replied_at__isnull=True).first(),
            **_consultation_context(case, access, own),
        },
        status=status if errors else 200,
    )


def _consultation_context(case: Case, access, own: bool) -> dict:
    """What the case page shows of consultations: the consultee's opinion form; the sharing
    form and the case's consultations for its department's staff (workflows.consultations)."""
    is_open = case.status not in FINAL_CASE_STATES
    can_share = not own and access.can_act and is_open
    return {
        "is_consultee": not own and access.is_consultee,
        "can_opine": not own and access.is_consultee and is_open,
        "can_share": can_share,
        "consultations": selectors.case_consultations(case=case) if access.can_act else [],
        "share_departments": selectors.share_departments(case=case) if can_share else [],
        "share_fields": selectors.case_field_choices(case=case) if can_share else [],
    }


@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_case(request, _case(request, reference))


@login_required
@require_http_methods(["GET", "POST"])
def case_reject(request: HttpRequest, reference: str) -> HttpResponse:
    """Rejecting cannot be undone: GET asks on its own page, with the reason to give; POST
    rejects. Staff who read the case but may not decide it (supervisors, the clerk's own
    application) get 403; a case that can no longer be rejected says why and changes nothing."""
    case = _case(request, reference)
    access = selectors.access_of(user=request.user, case=case)
    if not access.can_act or selectors.is_own_case(user=request.user, case=case):
        raise PermissionDenied(_("Only the department's staff decide its cases."))
    errors: dict[str, list[str]] = {}
    reason, status = "", 200
    if request.method == "POST":
        reason = request.POST.get("reason", "")[:5000]
        rejected = outcome(
            lambda: actions.case_reject(case=case, actor=request.user, reason=reason)
        )
        if rejected.done:
            messages.success(request, _("The case was rejected."))
            return redirect("workflows:case", reference=reference)
        errors = rejected.errors
        status = 400 if not reason.strip() else rejected.status
        case.refresh_from_db()
    can_reject = case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)
    return render(
        request,
        "workflows/case_reject.html",
        {
            "case": case,
            "can_reject": can_reject,
            "reason": reason,
            "errors": [m for ms in errors.values() for m in ms],
            "has_errors": bool(errors),
        },
        status=status,
    )


@login_required
@require_POST
def case_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One form per decision; each calls one action. Refusals come back as messages."""
    case = _case(request, reference)
    user, post = request.user, request.POST
    handlers = {
        "claim": lambda: actions.case_claim(case=case, actor=user),
        "release": lambda: actions.case_release(case=case, actor=user),
        "approve": lambda: actions.case_approve(
            case=case, actor=user, note=post.get("note", "")[:5000]
        ),
        "reject": lambda: actions.case_reject(
            case=case, actor=user, reason=post.get("reason", "")[:5000]
        ),
        "request-info": lambda: actions.case_request_info(
            case=case, actor=user, message=post.get("message", "")[:5000]
        ),
        "note": lambda: actions.case_note_add(
            case=case, actor=user, text=post.get("text", "")[:5000]
        ),
        "assign": lambda: actions.case_assign_to_email(
            case=case, actor=user, email=post.get("assignee", "")
        ),
    }
    if action == "reveal":
        revealed = outcome(  # a supervisor (who sees cases, never acts): the forbidden page
            lambda: actions.case_reveal(
                case=case,
                actor=user,
                fields=post.getlist("fields"),
                purpose=post.get("purpose", "")[:1000],
            )
        )
        if not revealed.done:
            return _render_case(request, case, errors=revealed.errors, status=revealed.status)
        return _render_case(request, case, revealed=selectors.shown_values(revealed.value))
    if action not in handlers:
        raise Http404
    attempt(request, handlers[action], success=_("Done."))
    return redirect("workflows:case", reference=reference)


@login_required
def case_file(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """A file of one of the case's fields, for the department's staff; the download is audited."""
    case = _case(request, reference)
    attachment = selectors.case_attachment(case=case, token=token, user=request.user)
    if attachment is None:
        raise Http404
    withheld = selectors.values_withheld(user=request.user, case=case)
    if withheld:  # own application: 403; a step not open yet: 409 (it will be, later)
        status = 403 if selectors.is_own_case(user=request.user, case=case) else 409
        return render(
            request, "errors/error.html", {"message": withheld, "status": status}, status=status
        )
    actions.case_read_record(case=case, actor=request.user, fields=[attachment.field_key])
    return FileResponse(
        io.BytesIO(attachment_content(attachment)),
        as_attachment=True,
        filename=attachment.name_plain,
        content_type=attachment.content_type,
    )
