"""Pages of the dashboards: the figures with their charts and tables, each chart as SVG, and
each table as CSV (the export is audited). Anyone without a dashboard gets 404, as for the
audit pages."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from core.errors import InvalidQuery
from core.spreadsheet import csv_writer

from . import actions, charts, selectors, tables
from .selectors import Filters, Scope


def _scope_or_404(request: HttpRequest) -> Scope:
    scope = selectors.dashboard_scope(user=request.user)
    if scope is None:
        raise Http404
    return scope


def _filters(request: HttpRequest, scope: Scope) -> Filters:
    return selectors.parse_filters(request.GET, scope=scope, today=timezone.localdate())


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_404(request)
    context = {"scope": scope, "services": selectors.services_for_filter()}
    try:
        filters = _filters(request, scope)
    except InvalidQuery as exc:
        typed = {k: str(request.GET.get(k, ""))[:100] for k in selectors.FILTER_NAMES}
        context |= {"errors": exc.errors, "typed": typed}
        return render(request, "oversight/dashboard.html", context, status=400)
    figures = selectors.figures(scope=scope, filters=filters)
    built = tables.build(figures, filters, scope)
    query = urlencode(filters.query())
    version = figures.refreshed_at.timestamp() if figures.refreshed_at else 0
    context |= {
        "filters": filters,
        "typed": {**filters.typed, **filters.query()},
        "figures": figures,
        "tables": [built[name] for name in tables.TABLES],
        "links": tables.summary_links(filters, scope),
        "sla_share": tables.percent(figures.sla["share"]),
        "query": query,
        "chart_query": f"{query}&v={int(version)}",
        "age_seconds": _age_seconds(figures),
    }
    return render(request, "oversight/dashboard.html", context)


def _age_seconds(figures: selectors.Figures) -> int | None:
    if figures.refreshed_at is None:
        return None
    return max(0, int((timezone.now() - figures.refreshed_at).total_seconds()))


def _table(request: HttpRequest, name: str) -> tuple[Filters, tables.Table]:
    scope = _scope_or_404(request)
    if name not in tables.TABLES:
        raise Http404
    try:
        filters = _filters(request, scope)
    except InvalidQuery as exc:
        raise _BadQuery(exc) from exc
    figures = selectors.figures(scope=scope, filters=filters)
    return filters, tables.build(figures, filters, scope)[name]


class _BadQuery(Exception):
    def __init__(self, exc: InvalidQuery) -> None:
        self.exc = exc


def _bad_query(exc: InvalidQuery) -> HttpResponse:
    lines = [f"{key}: {' '.join(messages)}" for key, messages in exc.errors.items()]
    return HttpResponse(
        "\n".join([exc.message, *lines]), status=400, content_type="text/plain; charset=utf-8"
    )


@require_GET
@login_required
# The SVG is loaded as an image (no script runs in it); its own <style> needs inline styles.
@csp_replace({"default-src": ["'none'"], "style-src": ["'unsafe-inline'"]})
def chart(request: HttpRequest, name: str) -> HttpResponse:
    if name not in charts.CHARTS:
        raise Http404
    try:
        _unused, table = _table(request, name)
    except _BadQuery as bad:
        return _bad_query(bad.exc)
    response = HttpResponse(charts.render(table), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=15"
    return response


@require_GET
@login_required
def export_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One table of the dashboard as CSV; the export is recorded in the audit log."""
    try:
        filters, table = _table(request, name)
    except _BadQuery as bad:
        return _bad_query(bad.exc)
    actions.dashboard_export_record(
        actor=request.user,
        table=name,
        filters=filters.query(),
        rows=len(table.rows),
        department=filters.department,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv_writer(response)
    writer.writerow(table.headings)
    for row in table.rows:
        writer.writerow(row)
    response["Content-Disposition"] = f'attachment; filename="dashboard-{name}.csv"'
    return response
