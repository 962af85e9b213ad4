"""The dashboards' figures as JSON: the same figures as the page, for the same people
(supervisors the whole city, leads their departments; anyone else 403)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors


class _Status(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField(help_text="In the request's language.")
    count = serializers.IntegerField()


class _Band(serializers.Serializer):
    age = serializers.CharField(help_text="The age band in days, in the request's language.")
    count = serializers.IntegerField()


class _Department(serializers.Serializer):
    department = serializers.CharField(help_text="The department's slug.")
    name = serializers.CharField()
    backlog = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    waiting_on_citizens = serializers.IntegerField()
    decided = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_share = serializers.FloatField(allow_null=True)


class _Step(serializers.Serializer):
    service = serializers.CharField()
    step = serializers.CharField()
    name = serializers.CharField()
    decided = serializers.IntegerField()
    median_hours = serializers.FloatField(
        allow_null=True, help_text="Upper edge of its histogram bucket (at most 25 % above)."
    )
    p90_hours = serializers.FloatField(allow_null=True)


class _Day(serializers.Serializer):
    day = serializers.DateField()
    decided = serializers.IntegerField()


class _Week(serializers.Serializer):
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W49.")
    decided = serializers.IntegerField()


class DashboardOutput(serializers.Serializer):
    covers = serializers.ChoiceField(
        choices=["city", "departments"],
        help_text="city: every department (supervisors); departments: those the lead leads.",
    )
    refreshed_at = serializers.DateTimeField(allow_null=True)
    since = serializers.DateField()
    until = serializers.DateField()
    backlog_by_status = _Status(many=True)
    backlog_by_age = _Band(many=True)
    departments = _Department(many=True)
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    decided = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_share = serializers.FloatField(allow_null=True)
    steps = _Step(many=True)
    per_day = _Day(many=True)
    per_week = _Week(many=True)
    waiting_on_citizens = serializers.IntegerField()
    incidents_open = serializers.IntegerField(allow_null=True)


def as_data(figures: selectors.Figures, filters: selectors.Filters, scope) -> dict:
    return {
        "covers": "city" if scope.city else "departments",
        "refreshed_at": figures.refreshed_at,
        "since": filters.since,
        "until": filters.until,
        "backlog_by_status": [
            {"status": s, "label": label, "count": n} for s, label, n in figures.backlog_by_status
        ],
        "backlog_by_age": [{"age": label, "count": n} for label, n in figures.backlog_by_age],
        "departments": [
            {
                "department": r["department"].slug,
                "name": r["department"].name_translated,
                "backlog": r["backlog"],
                "overdue": r["overdue"],
                "due_soon": r["due_soon"],
                "waiting_on_citizens": r["waiting"],
                "decided": r["decided"],
                "on_time": r["on_time"],
                "on_time_share": r["share"],
            }
            for r in figures.by_department
        ],
        "overdue": figures.deadlines["overdue"],
        "due_soon": figures.deadlines["due_soon"],
        "decided": figures.sla["decided"],
        "on_time": figures.sla["on_time"],
        "on_time_share": figures.sla["share"],
        "steps": [
            {k: s[k] for k in ("service", "step", "name", "decided", "median_hours", "p90_hours")}
            for s in figures.steps
        ],
        "per_day": [{"day": d, "decided": n} for d, n in figures.per_day],
        "per_week": [{"week": w, "decided": n} for w, _monday, n in figures.per_week],
        "waiting_on_citizens": figures.waiting_on_citizens,
        "incidents_open": figures.incidents_open,
    }


class DashboardApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATE, description="First day of the decisions counted."
            ),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day (default today)."),
            OpenApiParameter(
                "department", OpenApiTypes.STR, description="A department's slug in scope."
            ),
            OpenApiParameter("service", OpenApiTypes.STR, description="A service's slug."),
        ],
        responses=DashboardOutput,
        summary="The dashboard's figures (supervisors: the whole city; leads: their "
        "departments), from the summary tables",
    )
    def get(self, request: Request) -> Response:
        scope = selectors.dashboard_scope(user=request.user)
        if scope is None:
            raise PermissionDenied(_("Only supervisors and department leads have a dashboard."))
        filters = selectors.parse_filters(
            request.query_params, scope=scope, today=timezone.localdate()
        )
        figures = selectors.figures(scope=scope, filters=filters)
        # Plain values already in the schema's shape: no serializer pass over them.
        return Response(as_data(figures, filters, scope))
