"""Pages: the supervisor's audit search (with CSV export and verification), an application's
history, and the citizen's "who looked at my data"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date

from config.spreadsheet import csv_writer

from . import actions, presenters, selectors
from .constants import AuditAction

FILTERS = ["target", "actor", "action", "department", "subject", "since", "until"]
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
]


def _auditor_or_404(request: HttpRequest) -> None:
    if not selectors.can_audit(request.user):
        raise Http404


def _filters(request: HttpRequest) -> tuple[dict, dict]:
    raw = {k: request.GET.get(k, "")[:100].strip() for k in FILTERS}
    parsed = dict(raw)
    for key in ("since", "until"):
        try:
            parsed[key] = parse_date(raw[key]) if raw[key] else None
        except ValueError:  # well formed but impossible: ignore the filter
            parsed[key] = None
    return raw, parsed


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _auditor_or_404(request)
    raw, parsed = _filters(request)
    events = selectors.audit_search(user=request.user, **parsed)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    verification = selectors.audit_verify() if request.GET.get("verify") else None
    return render(
        request,
        "audit/search.html",
        {
            "rows": [presenters.event_row(e) for e in page],
            "page": page,
            "filters": raw,
            "actions": AuditAction.choices,
            "verification": verification,
            "query": request.GET.urlencode(),
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

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            row = presenters.event_row(event)
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
        {"reference": reference, "rows": [presenters.event_row(e) for e in events[:5000]]},
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
        {"rows": [presenters.access_row(e) for e in page], "page": page},
    )
