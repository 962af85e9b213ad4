"""Row locks taken by decisions and the SLA scan: only what they change, in the order routing
takes them (application, then case), so decisions in one department never queue on the
department's row and routing never skips an application the scan happens to hold."""

import threading

import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department
from services.models import Application
from tests.factories import ApplicationFactory
from workflows import actions, deadlines
from workflows.models import Case

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _routed_case(slug="tax"):
    application = ApplicationFactory(routed=True)
    return Case.objects.get(application=application, department__slug=slug)


def _nowait(queryset):
    """Lock the rows now or raise (another transaction holds one of them)."""
    return list(queryset.select_for_update(nowait=True))


def test_a_decision_locks_its_case_and_application_only(demo, require_postgres):
    first, second = _routed_case(), _routed_case()
    held, release = threading.Event(), threading.Event()

    def clerk_deciding():
        try:
            with transaction.atomic():
                actions._locked_case(first)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=clerk_deciding)
    thread.start()
    try:
        assert held.wait(10)
        with transaction.atomic():
            # The department and the version are not locked: another decision goes ahead.
            _nowait(Department.objects.filter(pk=first.department_id))
            _nowait(Case.objects.filter(pk=second.pk))
            _nowait(Application.objects.filter(pk=second.application_id))
        # The decided case and its application are.
        for locked in (
            Case.objects.filter(pk=first.pk),
            Application.objects.filter(pk=first.application_id),
        ):
            with pytest.raises(OperationalError), transaction.atomic():
                _nowait(locked)
    finally:
        release.set()
        thread.join(30)


def test_a_decision_takes_the_application_before_the_case(demo, require_postgres):
    case = _routed_case()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        actions._locked_case(case)
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 2
    assert 'FROM "services_application"' in locks[0] and locks[0].endswith("FOR UPDATE")
    assert locks[1].endswith('FOR UPDATE OF "workflows_case"')


def test_the_sla_scan_locks_case_rows_only(demo, require_postgres, clock):
    case = _routed_case()
    Case.objects.filter(pk=case.pk).update(due_at=clock.now() - timezone.timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        counts = deadlines.sla_scan(now=clock.now())
    assert counts["breached"] == 1
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locks and all(
        sql.endswith('FOR UPDATE OF "workflows_case" SKIP LOCKED') for sql in locks
    )
