"""Writes of the oversight dashboards: bringing the summary tables up to date from the cases
changed since the last run, and recording a CSV export of a dashboard table.

The summaries are figures derived from the cases, not facts of their own: a refresh changes
nobody's data and records no audit event (the cases' own changes are audited where they
happen). A refresh reads the cases whose `updated_at` is at or after a little before the latest
one it read (`OVERLAP`: a transaction that committed late, with an earlier `updated_at`, is read
on the next run), in batches of (`updated_at`, id) order on their index. Each case's counted
state is kept in `CaseFact`; a case read again with nothing changed moves nothing, so running
twice, or two runs at once (each batch holds the state row's lock), counts every case once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Department
from audit.actions import audit_record
from audit.constants import AuditAction
from workflows.constants import CaseStatus
from workflows.models import Case, Incident

from . import selectors
from .histogram import bucket_of
from .models import (
    NO_DUE,
    BacklogCount,
    CaseFact,
    DashboardSnapshot,
    DecisionCount,
    SummaryState,
)

if TYPE_CHECKING:
    from accounts.models import User

OVERLAP = dt.timedelta(minutes=5)
BATCH = 2000
DECIDED = (CaseStatus.APPROVED, CaseStatus.REJECTED)
CLOSED = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED)
_FACT_FIELDS = ("department_id", "service_id", "step", "status", "since_on", "due_on")
_FACT_FIELDS += ("decided_on", "on_time", "bucket")


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def fact_of(row: dict[str, Any]) -> CaseFact:
    """What the summaries count for a case, from its row (`Case` values, with `service_id`)."""
    started = row["opened_at"] or row["created_at"]
    decided = row["status"] in DECIDED and row["decided_at"] is not None
    return CaseFact(
        case_id=row["id"],
        department_id=row["department_id"],
        service_id=row["service_id"],
        step=row["step"],
        status=row["status"],
        since_on=_day(started),
        due_on=_day(row["due_at"]) if row["due_at"] else NO_DUE,
        decided_on=_day(row["decided_at"]) if decided else None,
        on_time=(row["due_at"] is None or row["decided_at"] <= row["due_at"]) if decided else None,
        bucket=bucket_of(row["decided_at"] - started) if decided else None,
    )


def _backlog_key(fact: CaseFact) -> tuple | None:
    if fact.status in CLOSED:
        return None
    return (fact.department_id, fact.service_id, fact.status, fact.since_on, fact.due_on)


def _decision_key(fact: CaseFact) -> tuple | None:
    if fact.decided_on is None:
        return None
    return (
        fact.department_id,
        fact.service_id,
        fact.step,
        fact.decided_on,
        fact.on_time,
        fact.bucket,
    )


def _same(a: CaseFact, b: CaseFact) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _FACT_FIELDS)


CASE_VALUES = (
    "id",
    "department_id",
    "step",
    "status",
    "created_at",
    "opened_at",
    "due_at",
    "decided_at",
    "updated_at",
)


_MATCH_SLICE = 200


def _apply(model, keys: tuple[str, ...], deltas: Counter) -> None:
    """Add `deltas` ({key tuple: change}) to the count rows of `model`; rows at zero go."""
    deltas = Counter({k: v for k, v in deltas.items() if v})
    if not deltas:
        return
    existing = {}
    wanted = list(deltas)
    # In slices: one OR of thousands of terms is slow to plan, and too deep for SQLite.
    for start in range(0, len(wanted), _MATCH_SLICE):
        match = Q()
        for key in wanted[start : start + _MATCH_SLICE]:
            match |= Q(**dict(zip(keys, key, strict=True)))
        for row in model.objects.filter(match):
            existing[tuple(getattr(row, k) for k in keys)] = row
    changed, gone, new = [], [], []
    for key, delta in deltas.items():
        row = existing.get(key)
        if row is None:
            new.append(model(**dict(zip(keys, key, strict=True)), count=delta))
        elif row.count + delta == 0:
            gone.append(row.pk)
        else:
            row.count += delta
            changed.append(row)
    model.objects.filter(pk__in=gone).delete()
    model.objects.bulk_update(changed, ["count"])
    model.objects.bulk_create(new)


_BACKLOG_KEYS = ("department_id", "service_id", "status", "since_on", "due_on")
_DECISION_KEYS = ("department_id", "service_id", "step", "decided_on", "on_time", "bucket")


def _count(rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    facts = CaseFact.objects.in_bulk([r["id"] for r in rows])
    backlog: Counter = Counter()
    decisions: Counter = Counter()
    new, changed = [], []
    for row in rows:
        fact, old = fact_of(row), facts.get(row["id"])
        if old is not None and _same(old, fact):
            continue
        for facts_of, sign in ((old, -1), (fact, 1)):
            if facts_of is None:
                continue
            if (key := _backlog_key(facts_of)) is not None:
                backlog[key] += sign
            if (key := _decision_key(facts_of)) is not None:
                decisions[key] += sign
        (new if old is None else changed).append(fact)
    _apply(BacklogCount, _BACKLOG_KEYS, backlog)
    _apply(DecisionCount, _DECISION_KEYS, decisions)
    CaseFact.objects.bulk_create(new)
    CaseFact.objects.bulk_update(changed, list(_FACT_FIELDS))


def _state_locked() -> SummaryState:
    SummaryState.objects.get_or_create(pk=1)
    return SummaryState.objects.select_for_update().get(pk=1)


def summaries_refresh(*, batch: int = BATCH, now: dt.datetime | None = None) -> int:
    """Bring the summary tables up to date with the cases changed since the last run; return
    how many case rows were read. Each batch is one transaction."""
    read = 0
    with transaction.atomic():
        state = _state_locked()
        since = state.seen_until - OVERLAP if state.seen_until else None
    position: tuple[dt.datetime, int] | None = None
    while True:
        with transaction.atomic():
            state = _state_locked()
            cases = Case.objects.order_by("updated_at", "id")
            if position is not None:
                cases = cases.filter(
                    Q(updated_at__gt=position[0]) | Q(updated_at=position[0], id__gt=position[1])
                )
            elif since is not None:
                cases = cases.filter(updated_at__gte=since)
            rows = list(cases.values(*CASE_VALUES, service_id=F("version__service_id"))[:batch])
            if not rows:
                break
            _count(rows)
            last = rows[-1]
            position = (last["updated_at"], last["id"])
            if state.seen_until is None or last["updated_at"] > state.seen_until:
                state.seen_until = last["updated_at"]
                state.save(update_fields=["seen_until"])
            read += len(rows)
        if len(rows) < batch:
            break
    with transaction.atomic():
        state = _state_locked()
        moment = now or timezone.now()
        state.incidents_open = Incident.objects.filter(resolved_at__isnull=True).count()
        state.refreshed_at = moment
        state.save(update_fields=["incidents_open", "refreshed_at"])
        _snapshots(moment, state.incidents_open)
    return read


def _snapshots(moment: dt.datetime, incidents_open: int) -> None:
    """The default view's counts (`oversight.selectors.counts`) of the whole city and of each
    department, as of `moment`: what most dashboards show, one row each."""
    today = timezone.localtime(moment).date()
    since, until = selectors.default_period(today)
    keys = [None, *Department.objects.values_list("pk", flat=True)]
    rows = [
        DashboardSnapshot(
            key=selectors.snapshot_key(department),
            day=today,
            data=selectors.counts(
                department_ids=None if department is None else [department],
                service_id=None,
                since=since,
                until=until,
                today=today,
            )
            | {"refreshed_at": moment.isoformat(), "incidents_open": incidents_open},
            computed_at=moment,
        )
        for department in keys
    ]
    DashboardSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["day", "data", "computed_at"],
    )


def dashboard_export_record(
    *, actor: User, table: str, filters: dict[str, str], rows: int, department=None
) -> None:
    """A CSV export of a dashboard table is itself an audited action (figures only, no
    personal data, but who took which figures out of the portal is on record, under the
    department whose figures they are when one was chosen)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.DASHBOARD_EXPORT,
            actor=actor,
            department=department,
            details={"table": table, **{k: v for k, v in filters.items() if v}, "rows": rows},
        )
