"""Summary tables of the oversight dashboards, kept up to date by `oversight.summaries` from the
cases changed since its last run (never by reading every case when a page is asked for)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

# Backlog rows of cases that have no due date yet (waiting for another department): a date
# rather than NULL, so the unique constraint holds on every database.
NO_DUE = dt.date(9999, 12, 31)


class SummaryState(models.Model):
    """One row: how far the summaries have read the cases, and when they were last brought up
    to date (the figures' age on the dashboard). It also carries the dashboards' model-wide
    permission, which supervisors hold through their role (accounts.backends)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The latest `Case.updated_at` read; the next run reads from a little before it.
    seen_until = models.DateTimeField(_("cases read up to"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)
    incidents_open = models.PositiveIntegerField(_("routing incidents open"), default=0)

    class Meta:
        verbose_name = _("dashboard summary state")
        verbose_name_plural = _("dashboard summary state")
        default_permissions = ()
        permissions = [("view_city_dashboard", _("Can see the whole city's dashboard"))]

    def __str__(self) -> str:
        return f"summaries refreshed at {self.refreshed_at}"


class CaseFact(models.Model):
    """What the summaries counted for one case, so that a change moves its count from the old
    cell to the new one (and reading a case twice changes nothing)."""

    case = models.OneToOneField(
        "workflows.Case", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=60)
    status = models.CharField(max_length=20)
    since_on = models.DateField()  # opened (or created, while pending), in the portal's zone
    due_on = models.DateField(default=NO_DUE)
    decided_on = models.DateField(null=True, blank=True)  # approved or rejected only
    on_time = models.BooleanField(null=True)
    bucket = models.SmallIntegerField(null=True)  # time to decision (oversight.histogram)

    class Meta:
        verbose_name = _("counted case")
        verbose_name_plural = _("counted cases")

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.status}"


class BacklogCount(models.Model):
    """Cases not yet closed, by department, service, status, the day their clock started and
    their due day."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    since_on = models.DateField()
    due_on = models.DateField(default=NO_DUE)
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("backlog count")
        verbose_name_plural = _("backlog counts")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "service", "status", "since_on", "due_on"],
                name="oversight_backlog_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.service_id}/{self.status}/{self.since_on}: {self.count}"


class DecisionCount(models.Model):
    """Decisions (approved or rejected) by department, service, step, day, whether they came
    by the due date, and the histogram bucket of their time to decision."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=60)
    decided_on = models.DateField()
    on_time = models.BooleanField()
    bucket = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("decision count")
        verbose_name_plural = _("decision counts")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "service", "step", "decided_on", "on_time", "bucket"],
                name="oversight_decision_cell",
            )
        ]
        # The period filter reads a range of days.
        indexes = [models.Index(fields=["decided_on"], name="oversight_decided_on_idx")]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.service_id}/{self.step}/{self.decided_on}: {self.count}"


class DashboardSnapshot(models.Model):
    """The counts of a dashboard's default view (the last 30 days, every service), for the whole
    city or one department, computed by the refresh for `day`: the page reads this one row
    instead of grouping the summary tables. Ids and codes only, named when shown."""

    key = models.CharField(max_length=40, primary_key=True)  # "city", "department:<id>"
    day = models.DateField()
    data = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self) -> str:
        return f"{self.key} on {self.day}"
