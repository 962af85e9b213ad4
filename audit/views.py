"""Pages: the supervisor's audit search (with CSV export and verification), an application's
history, and the citizen's "who looked at my data"."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation

from core.spreadsheet import csv_writer

from . import actions, presenters, selectors
from .constants import AuditAction
from .filters import FILTERS, parse_filters
from .purposes import PurposeReader

CSV_COLUMNS = [
    "seq",
    "at",
    "actor",
    "role",
    "department",
    "action",
    "target_type",
    "target",
    "subject",
    "purpose",
    "request_id",
    "ip",
    "details",
    "sealed",
    "authentic",
    # For people reading the file: names, not codes or ids.
    "actor_name",
    "department_name",
    "action_label",
    "subject_email",
    "field_labels",
    # The absent colleague a delegate acted for (a delegation), by name; empty otherwise.
    "on_behalf_of_name",
]


def _auditor_or_404(request: HttpRequest) -> None:
    if not selectors.can_audit(request.user):
        raise Http404


# Searches posted by the form, kept in the session under a random key: the filters (a citizen's
# or a staff member's email among them) never go into an address, so no access log, browser
# history or Referer holds them. Addresses carry only `?search=<key>`.
_SEARCHES = "audit-searches"
_KEPT_SEARCHES = 20


def _remember(request: HttpRequest, filters: dict[str, str]) -> str:
    key = secrets.token_urlsafe(12)
    searches = {**request.session.get(_SEARCHES, {}), key: filters}
    request.session[_SEARCHES] = dict(list(searches.items())[-_KEPT_SEARCHES:])
    return key


def _filters(request: HttpRequest) -> tuple[dict, dict]:
    """The filters of a remembered search (`?search=`), or of the query string (links that
    name only a reference, an action, a department or dates)."""
    saved = request.session.get(_SEARCHES, {}).get(request.GET.get("search", ""))
    return parse_filters(saved if saved is not None else request.GET, strict=False)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _auditor_or_404(request)
    if request.method == "POST":
        key = _remember(request, {k: request.POST.get(k, "")[:100].strip() for k in FILTERS})
        query = {"search": key, **({"verify": "1"} if request.POST.get("verify") else {})}
        return redirect(f"{reverse('audit:search')}?{urlencode(query)}")
    raw, parsed = _filters(request)
    events = selectors.audit_search(user=request.user, **parsed)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    verification = selectors.audit_verify() if request.GET.get("verify") else None
    return render(
        request,
        "audit/search.html",
        {
            "rows": presenters.event_rows(page),
            "page": page,
            "filters": raw,
            "actions": AuditAction.choices,
            "verification": verification,
            "query": urlencode(
                {"search": request.GET["search"]}
                if "search" in request.GET
                else {k: v for k, v in raw.items() if v}
            ),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered events as CSV, streamed; the export itself is recorded."""
    _auditor_or_404(request)
    raw, parsed = _filters(request)
    events = selectors.audit_search(user=request.user, **parsed)
    actions.audit_export_record(actor=request.user, filters=raw, rows=events.count())
    writer = csv_writer(_Echo())  # cells that a spreadsheet would evaluate are neutralised
    purposes = PurposeReader()  # each data key is read once for the whole export
    behalf = presenters.BehalfReader()  # each absent colleague is read once, too
    language = translation.get_language()  # names in the asker's language, however it streams

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        with translation.override(language):
            for event in events.iterator(chunk_size=2000):
                row = presenters.event_row(event, purposes, behalf=behalf)
                row["field_labels"] = ", ".join(row["field_labels"])
                # The city's time with its offset (2026-12-02T14:30:00+08:00), as on the pages.
                row["at"] = timezone.localtime(row["at"]).isoformat()
                yield writer.writerow([row[c] for c in CSV_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


@login_required
def application_history(request: HttpRequest, reference: str) -> HttpResponse:
    _auditor_or_404(request)
    events = selectors.application_history(user=request.user, reference=reference)
    return render(
        request,
        "audit/history.html",
        {"reference": reference, "rows": presenters.event_rows(events[:5000])},
    )


@login_required
def data_access(request: HttpRequest) -> HttpResponse:
    """The citizen's own page: who read or revealed their personal data, and why."""
    page = Paginator(selectors.data_access_for_citizen(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "audit/data_access.html",
        {"rows": presenters.access_rows(selectors.authentic(page)), "page": page},
    )
